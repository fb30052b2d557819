"""User administration: create, edit roles/branch, disable/enable, reset password; own password change."""

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.auth.models import Role, User
from crm.auth.passwords import check_password
from crm.auth.sessions import UserSession
from tests import dbstate, factories
from tests.conftest import csrf_token


def _confirm(client):
    response = client.post("/confirm-password", data={"password": factories.PASSWORD,
                                                      "csrf_token": csrf_token(client)})
    assert response.status_code == 302


def _sign_in_elsewhere(app, user):
    other = app.test_client()
    response = other.post("/login", data={"username": user.username, "password": factories.PASSWORD,
                                          "csrf_token": csrf_token(other)})
    assert response.status_code == 302
    assert other.get("/").status_code == 302 and other.get("/members/").status_code in (200, 403)
    return other


def _signed_out(client):
    response = client.get("/members/")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def _actions(db):
    return [a for a in db.session.scalars(select(AuditEntry.action))]


def test_an_admin_creates_a_user(client, db, login_as):
    admin = login_as("admin")
    branch = factories.make_branch()
    db.session.commit()
    response = client.post("/admin/users/new", data={
        "username": "newbie", "display_name": "新人", "branch": str(branch.id), "roles": ["VOLUNTEER"],
        "password": "a long enough password", "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.username == "newbie"))
    assert user.roles == Role.VOLUNTEER and user.branch_id == branch.id
    assert check_password(user.password_hash, "a long enough password")
    assert "user.create" in _actions(db)
    assert admin.id


@pytest.mark.parametrize(("data", "field"), [
    ({"username": "x y"}, "username"), ({"roles": []}, "roles"), ({"password": "short"}, "password"),
    ({"branch": "999999"}, "branch")])
def test_bad_input_is_refused_beside_the_field_and_writes_nothing(client, db, login_as, data, field):
    login_as("admin")
    branch = factories.make_branch()
    db.session.commit()
    form = {"username": "newbie", "display_name": "新人", "branch": str(branch.id), "roles": ["VOLUNTEER"],
            "password": "a long enough password", **data, "csrf_token": csrf_token(client)}
    before = dbstate.contents()
    response = client.post("/admin/users/new", data=form)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True) or 'class="error"' in response.get_data(
        as_text=True)
    assert dbstate.contents() == before


def test_role_change_needs_a_fresh_password_and_ends_the_targets_sessions(app, client, db, login_as):
    login_as("admin")
    target = factories.make_user("volunteer")
    db.session.commit()
    elsewhere = _sign_in_elsewhere(app, target)
    form = {"display_name": target.display_name, "branch": str(target.branch_id),
            "roles": ["VOLUNTEER", "SUPERVISOR"], "version": "1", "csrf_token": csrf_token(client)}
    first = client.post(f"/admin/users/{target.id}", data=form)
    assert first.status_code == 302 and first.headers["Location"].startswith("/confirm-password")
    db.session.expire_all()
    assert db.session.get(User, target.id).roles == Role.VOLUNTEER
    _confirm(client)
    assert client.get(f"/admin/users/{target.id}").status_code == 200
    assert client.post(f"/admin/users/{target.id}", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, target.id).roles == Role.VOLUNTEER | Role.SUPERVISOR
    assert "user.update" in _actions(db)
    assert _signed_out(elsewhere)


def test_an_admin_cannot_remove_their_own_admin_role_or_disable_themselves(client, db, login_as):
    admin = login_as("admin")
    _confirm(client)
    response = client.post(f"/admin/users/{admin.id}", data={
        "display_name": admin.display_name, "branch": str(admin.branch_id), "roles": ["VOLUNTEER"],
        "version": "1", "csrf_token": csrf_token(client)})
    assert response.status_code == 422
    client.post(f"/admin/users/{admin.id}/active", data={"active": "0", "csrf_token": csrf_token(client)})
    db.session.expire_all()
    me = db.session.get(User, admin.id)
    assert me.roles == Role.ADMIN and me.is_active_user


def test_disable_and_enable(app, client, db, login_as):
    login_as("admin")
    target = factories.make_user("volunteer")
    db.session.commit()
    elsewhere = _sign_in_elsewhere(app, target)
    assert client.post(f"/admin/users/{target.id}/active",
                       data={"active": "0", "confirmed": "1", "csrf_token": csrf_token(client)}).status_code == 302
    assert _signed_out(elsewhere)
    db.session.expire_all()
    assert not db.session.get(User, target.id).is_active_user
    client.post(f"/admin/users/{target.id}/active", data={"active": "1", "csrf_token": csrf_token(client)})
    db.session.expire_all()
    assert db.session.get(User, target.id).is_active_user
    assert {"user.disable", "user.enable"} <= set(_actions(db))


def test_password_reset_needs_a_fresh_password_and_ends_sessions(app, client, db, login_as):
    login_as("admin")
    target = factories.make_user("volunteer")
    db.session.commit()
    elsewhere = _sign_in_elsewhere(app, target)
    assert client.get(f"/admin/users/{target.id}/password").headers["Location"].startswith("/confirm-password")
    _confirm(client)
    response = client.post(f"/admin/users/{target.id}/password",
                           data={"password": "another long password", "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    db.session.expire_all()
    assert check_password(db.session.get(User, target.id).password_hash, "another long password")
    assert _signed_out(elsewhere)
    assert "user.password_reset" in _actions(db)


def test_a_user_changes_their_own_password_and_other_sessions_end(app, client, db, login_as):
    user = login_as("volunteer")
    elsewhere = _sign_in_elsewhere(app, user)
    wrong = client.post("/account/password", data={"current": "nope", "password": "my new long password",
                                                   "confirm": "my new long password", "csrf_token": csrf_token(client)})
    assert wrong.status_code == 422
    response = client.post("/account/password", data={
        "current": factories.PASSWORD, "password": "my new long password", "confirm": "my new long password",
        "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert not _signed_out(client)  # this browser stays signed in
    assert _signed_out(elsewhere)
    assert len(db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()) == 1
    assert "user.password_change" in _actions(db)
