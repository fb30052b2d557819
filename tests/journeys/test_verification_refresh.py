"""The step that makes a member active changes more than the checklist (the page head and the status
form show the status): with htmx the whole case file reloads instead of one panel contradicting the rest."""

from crm.clock import now_utc
from crm.members.models import Member, MemberStatus
from tests import factories
from tests.i18n import msg

HX = {"HX-Request": "true"}


def newcomer(db, login_as, **done):
    supervisor = login_as("supervisor")
    volunteer = factories.make_user("volunteer", branch=supervisor.branch)
    member = factories.make_member(owner=volunteer, verified=False, consent_at=now_utc(), **done)
    db.session.commit()
    return member


def test_the_last_check_reloads_the_page_and_the_flash_shows_there(client, db, login_as, csrf):
    member = newcomer(db, login_as, realname_verified_at=now_utc(), employer_verified_at=now_utc())
    response = client.post(f"/members/{member.id}/verify", data={"check": "pledge", "csrf_token": csrf()},
                           headers=HX)
    assert response.status_code == 200 and response.headers["HX-Refresh"] == "true"
    db.session.expire_all()
    assert db.session.get(Member, member.id).status is MemberStatus.ACTIVE
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert msg("Verification recorded.") in page and "status-active" in page


def test_a_check_that_leaves_the_status_alone_swaps_only_the_checklist(client, db, login_as, csrf):
    member = newcomer(db, login_as)
    response = client.post(f"/members/{member.id}/verify", data={"check": "realname", "csrf_token": csrf()},
                           headers=HX)
    assert response.status_code == 200 and "HX-Refresh" not in response.headers
    assert response.get_data(as_text=True).lstrip().startswith('<section class="panel" id="verification"')
    db.session.expire_all()
    assert db.session.get(Member, member.id).status is MemberStatus.INTAKE
