"""Admins tune the score weights per branch; suggestions use them at once."""

import pytest

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.matching import service
from crm.matching.models import MatchingSettings
from crm.matching.scoring import Weights
from crm.members.models import Gender
from tests.factories import make_branch, make_member, make_user


@pytest.fixture(autouse=True)
def fresh_cache():
    service.reset()
    yield
    service.reset()


def _form(csrf, branch, **weights):
    return {"csrf_token": csrf(), "branch_id": branch.id, **Weights().as_dict(),
            "version": str(service.branch_weights_version(branch.id)), **weights}


def test_admin_sets_a_branchs_weights_and_suggestions_use_them(client, login_as, csrf, app):
    admin = login_as("admin")
    vol = make_user("volunteer")
    a = make_member(owner=vol, gender=Gender.MALE, interests=["skiing"])
    make_member(owner=vol, gender=Gender.FEMALE, interests=["skiing"],
                home_city="北京市", home_district="海淀区", work_city="北京市", work_district="海淀区")
    db.session.commit()
    assert client.get("/matching/weights", query_string={"branch_id": vol.branch.id}).status_code == 200
    with app.test_request_context():
        before = service.suggestions(a)[0].score
    response = client.post("/matching/weights", data=_form(csrf, vol.branch, interests=10, values=0, life_goals=0,
                                                           soft=0, distance=0))
    assert response.status_code == 302
    settings = db.session.scalars(db.select(MatchingSettings)).one()
    assert settings.as_weights == Weights(interests=10, values=0, life_goals=0, soft=0, distance=0)
    assert db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "matching.weights")).one().actor_id \
        == admin.id
    with app.test_request_context():
        after = service.suggestions(a)[0].score
    assert after == pytest.approx(1.0) and after > before


def test_bad_weights_are_refused_next_to_the_field_and_nothing_is_saved(client, login_as, csrf):
    login_as("admin")
    branch = make_branch()
    db.session.commit()
    response = client.post("/matching/weights", data=_form(csrf, branch, interests="-1", soft="abc"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="-1"' in html and 'value="abc"' in html
    zero = {n: 0 for n in Weights().as_dict()}
    assert client.post("/matching/weights", data=_form(csrf, branch, **zero)).status_code == 422
    assert db.session.scalars(db.select(MatchingSettings)).first() is None


def test_odd_branch_numbers_show_the_first_branch(client, login_as):
    login_as("admin")
    for value in ("abc", "0", str(2 ** 31), "9" * 30):
        assert client.get("/matching/weights", query_string={"branch_id": value}).status_code == 200


def test_only_admins_edit_weights(client, login_as):
    login_as("supervisor")
    assert client.get("/matching/weights").status_code == 403


def test_stored_weights_with_bad_values_fall_back_to_the_defaults(db):
    assert MatchingSettings(weights={"interests": "lots", "distance": -3}).as_weights == Weights()
