"""Counselling pages run the same number of statements whatever the caseload."""

from crm.counselling.models import Risk
from crm.extensions import db
from tests.counselling.helpers import make_referral, make_session
from tests.factories import make_member


def _grow(world, n):
    for _ in range(n):
        member = make_member(owner=world.owner)
        referral = make_referral(member, world.owner, counsellor=world.author)
        for risk in (Risk.NONE, Risk.HIGH):
            make_session(referral, world.author, risk=risk)
        make_referral(make_member(owner=world.owner), world.owner)
        make_session(world.referral, world.author)
    db.session.commit()


def _count(client, count_queries, url):
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_statement_counts_do_not_grow_with_the_data(world, sign_in, count_queries):
    pages = {
        world.author: ["/counselling/", f"/counselling/referrals/{world.referral.id}"],
        world.supervisor: ["/counselling/alerts", f"/counselling/referrals/{world.referral.id}",
                           f"/members/{world.member.id}"],
    }
    clients = {user: sign_in(user) for user in pages}
    before = {url: _count(clients[u], count_queries, url) for u, urls in pages.items() for url in urls}
    _grow(world, 6)
    after = {url: _count(clients[u], count_queries, url) for u, urls in pages.items() for url in urls}
    assert after == before
