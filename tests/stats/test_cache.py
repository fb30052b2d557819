"""The dashboard's cache (crm.stats.cache): a repeated view reuses the aggregates, and any new move,
member, case note or follow-up shows on the very next view; statements per view stay constant."""

from datetime import timedelta

import pytest

from crm.clock import now_utc, today
from crm.extensions import db
from crm.followups.models import FollowUp, FollowUpKind
from crm.members.models import Gender
from crm.pairings import pipeline
from crm.pairings.models import PairingCloseReason, Stage
from crm.stats import cache, services
from crm.stats.definitions import Period
from tests.factories import make_member, make_note, make_user
from tests.stats import scene

URL = "/stats/dashboard?start=2026-03-01&end=2026-04-30"
RECENT = Period(today() - timedelta(days=60), today())


@pytest.fixture
def cached(app, db):
    app.config["STATS_CACHE_SECONDS"] = 300
    cache.clear()
    yield
    app.config["STATS_CACHE_SECONDS"] = 0
    cache.clear()


@pytest.fixture
def s(db, cached):
    return scene.build()


def _statements(client, count_queries, url=URL):
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return len(statements)


def test_a_repeated_view_reads_only_the_stamp_and_the_alerts(s, client, login_as, count_queries):
    login_as("supervisor", branch=s.A)
    cold = _statements(client, count_queries)
    warm = _statements(client, count_queries)
    # cold: the stamp + funnel, medians, trends, reasons, volunteers, neglected; warm: the stamp only
    assert warm == cold - 6, (cold, warm)
    scene.make_pair(make_member(branch=s.A, owner=s.vol_a), make_member(branch=s.B, owner=s.vol_b),
                    [(Stage.PROPOSED, scene.t(3, 3))])  # one more proposal in March
    db.session.commit()
    assert _statements(client, count_queries) == cold  # recomputed
    assert _statements(client, count_queries) == warm


def test_statement_counts_do_not_grow_with_the_data(s, client, login_as, count_queries):
    login_as("supervisor", branch=s.A)
    small = (_statements(client, count_queries), _statements(client, count_queries))
    for i in range(25):
        m = make_member(branch=s.A, owner=s.vol_a)
        make_note(m, s.vol_a)
        scene.make_pair(m, make_member(branch=s.B, owner=s.vol_b),
                        [(Stage.PROPOSED, scene.t(3, 2 + i % 20)), (Stage.INTRODUCED, scene.t(3, 25))])
    db.session.commit()
    large = (_statements(client, count_queries), _statements(client, count_queries))
    assert small == large


def test_changes_show_on_the_next_view(app, db, cached):
    with app.test_request_context():
        branch_vol = make_user("volunteer")
        branch = branch_vol.branch
        other_vol = make_user("volunteer", branch=branch)
        a = make_member(owner=branch_vol, gender=Gender.MALE, created_at=now_utc() - timedelta(days=90))
        b = make_member(owner=other_vol, gender=Gender.FEMALE, created_at=now_utc() - timedelta(days=90))
        db.session.commit()

        def view():
            return services.dashboard(RECENT, branch.id)

        first = view()
        assert view() is not first and view().funnel is first.funnel  # reused, alerts read fresh
        assert first.neglected_total == 2 and first.funnel[0].reached == 0

        # a proposal (pipeline history): the funnel and trends show it at once
        from crm.pairings import services as pairing_services
        pairing = pairing_services.propose_pairing(a, b, branch_vol)
        db.session.commit()
        data = view()
        assert data.funnel[0].reached == 1 and sum(m.proposed for m in data.trends) == 1
        assert data.neglected_total == 0  # a proposal is attention

        # a move: a close shows in the reasons
        pipeline.move(pairing, Stage.CLOSED, branch_vol, close_reason=PairingCloseReason.NO_CHEMISTRY)
        db.session.commit()
        assert [n for _, n in view().reasons] == [1]

        # a new member with no attention: neglected; then a note: no longer
        c = make_member(owner=branch_vol, created_at=now_utc() - timedelta(days=90))
        db.session.commit()
        assert view().neglected_total == 1
        make_note(c, branch_vol)
        db.session.commit()
        assert view().neglected_total == 0

        # a follow-up due yesterday: overdue at once; completed: gone at once
        followup = FollowUp(due_on=today() - timedelta(days=1), assignee_id=branch_vol.id, member_id=a.id,
                            kind=FollowUpKind.OTHER)
        db.session.add(followup)
        db.session.commit()
        row = {v.user_id: v for v in view().volunteers}[branch_vol.id]
        assert row.overdue_followups == 1
        followup.done_at = now_utc()
        db.session.commit()
        assert {v.user_id: v for v in view().volunteers}[branch_vol.id].overdue_followups == 0

        # a case file closed (members.updated_at): the caseload drops at once
        from crm.members.models import MemberStatus
        before = {v.user_id: v for v in view().volunteers}[branch_vol.id].caseload
        c.status = MemberStatus.CLOSED
        db.session.commit()
        assert {v.user_id: v for v in view().volunteers}[branch_vol.id].caseload == before - 1


def test_entries_expire_and_the_cache_can_be_off(app, db, cached, monkeypatch):
    with app.test_request_context():
        calls = []

        def compute():
            calls.append(1)
            return len(calls)

        assert cache.cached("k", compute) == 1 and cache.cached("k", compute) == 1
        clock = cache.time.monotonic() + 301  # older than STATS_CACHE_SECONDS: recomputed
        monkeypatch.setattr(cache.time, "monotonic", lambda: clock)
        assert cache.cached("k", compute) == 2 and cache.cached("k", compute) == 2
        app.config["STATS_CACHE_SIZE"] = 1
        try:
            assert cache.cached("other", compute) == 3  # pushes "k" out (one entry kept)
            assert cache.cached("k", compute) == 4
        finally:
            app.config["STATS_CACHE_SIZE"] = 64
        app.config["STATS_CACHE_SECONDS"] = 0
        assert cache.cached("k", compute) == 5 and cache.cached("k", compute) == 6
