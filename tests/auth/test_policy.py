"""The permission policy, checked against the real URL map.

The role x route matrix is generated at collection time from the app's URL map, so an endpoint
added later is swept too: every role that may not use it is refused (403/404, or sent to log in)
and nothing at all is written to the database.
"""

import logging
from dataclasses import dataclass

import pytest
from flask import url_for
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from crm import create_app
from crm.auth import policy
from crm.auth.models import Role
from crm.config import TestConfig
from crm.members.models import Member
from tests import dbstate, factories

MISSING_ID = 987654  # no record has this id in a test database
ROLES = ["anonymous", "anonymous-htmx", "volunteer", "counsellor", "supervisor", "admin"]


@dataclass(frozen=True)
class RouteCase:
    endpoint: str
    method: str
    arguments: tuple[str, ...]
    int_arguments: frozenset[str]


def _routes() -> list[RouteCase]:
    app = create_app(TestConfig)
    cases = []
    for rule in app.url_map.iter_rules():
        ints = frozenset(name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            cases.append(RouteCase(rule.endpoint, method, tuple(sorted(rule.arguments)), ints))
    return cases


ROUTES = _routes()
ENDPOINTS = sorted({r.endpoint for r in ROUTES})


def _allowed(role: str, endpoint: str) -> bool:
    access = policy.ROUTE_ACCESS.get(endpoint)
    if access == policy.PUBLIC:
        return True
    if role.startswith("anonymous") or access is None:
        return False
    return bool(Role[role.upper()] & access)


def _variants(route: RouteCase, role: str) -> list[str]:
    """Which inaccessible records to point the URL at."""
    if not _allowed(role, route.endpoint) or not route.arguments:
        return ["foreign"]
    variants = {"volunteer": ["foreign", "neighbour"], "supervisor": ["foreign"], "admin": ["missing"],
                "counsellor": ["foreign"]}[role]
    if len(route.arguments) > 1:  # a child record that belongs to another parent
        variants.append("mismatch")
    return variants


def _denial_cases():
    for route in ROUTES:
        if policy.ROUTE_ACCESS.get(route.endpoint) == policy.PUBLIC:
            continue
        for role in ROLES:
            if _allowed(role, route.endpoint) and not route.arguments:
                continue  # nothing to be refused: covered by the positive checks and the service tests
            for variant in _variants(route, role):
                yield pytest.param(route, role, variant, id=f"{route.endpoint}-{route.method}-{role}-{variant}")


class World:
    """A user of the role under test in branch A, and records they may or may not reach."""

    def __init__(self, role: str):
        self.branch = factories.make_branch()
        self.other_branch = factories.make_branch()
        self.user = None if role.startswith("anonymous") else factories.make_user(role, branch=self.branch)
        self.neighbour = factories.make_user("volunteer", branch=self.branch)
        self.stranger = factories.make_user("volunteer", branch=self.other_branch)
        owner = self.user if self.user is not None and self.user.has_role(Role.VOLUNTEER) else self.neighbour
        self.own_member = factories.make_member(owner=owner, name="李自家")
        self.own_note = factories.make_note(self.own_member, owner)
        # Unverified, so that a verify that got through would visibly write.
        self.neighbour_member = factories.make_member(owner=self.neighbour, name="王邻居", verified=False)
        self.neighbour_note = factories.make_note(self.neighbour_member, self.neighbour, body="邻居的记录")
        self.foreign_member = factories.make_member(owner=self.stranger, name="赵外人", verified=False)
        self.foreign_note = factories.make_note(self.foreign_member, self.stranger, body="外人的记录")

    def secrets(self) -> list[str]:
        """Text from records the user must not see, which must not leak into any response."""
        return [self.foreign_member.name, self.foreign_member.phone, self.foreign_note.body,
                self.neighbour_member.name, self.neighbour_note.body]

    def url_values(self, route: RouteCase, variant: str) -> dict:
        member, note = {
            "foreign": (self.foreign_member.id, self.foreign_note.id),
            "neighbour": (self.neighbour_member.id, self.neighbour_note.id),
            "missing": (MISSING_ID, MISSING_ID),
            "mismatch": (self.own_member.id, self.foreign_note.id),  # own member, another's note
        }[variant]
        known = {"member_id": member, "note_id": note}
        # An argument added after this test was written gets a record that does not exist.
        return {name: known.get(name, MISSING_ID if name in route.int_arguments else "no-such-record")
                for name in route.arguments}

    def form_data(self, endpoint: str) -> dict:
        """Data that would make the action succeed if the permission check were missing."""
        return {
            "members.edit": factories.member_form_data(version="1", phone="13700000001"),
            "members.new": factories.member_form_data(phone="13700000002"),
            "members.add_note": {"kind": "call", "contact_on": "2026-01-05", "body": "越权写入"},
            "members.edit_note": {"body": "越权修改", "version": "1"},
            "members.verify": {"check": "realname"},
            "members.set_status": {"status": "paused", "version": "1", "close_reason": ""},
            "members.reassign": {"to_user_id": str(self.neighbour.id), "reason": "越权转派"},
            "members.reassign_bulk": {"member_ids": [str(self.foreign_member.id)],
                                      "to_user_id": str(self.neighbour.id), "reason": "越权转派"},
        }.get(endpoint, {})


def test_every_endpoint_is_in_the_access_table(app):
    missing = [endpoint for endpoint in ENDPOINTS if endpoint not in policy.ROUTE_ACCESS]
    assert not missing, f"add these endpoints to crm.auth.policy.ROUTE_ACCESS: {missing}"


def test_the_access_table_names_no_endpoint_that_does_not_exist(app):
    assert set(policy.ROUTE_ACCESS) <= {r.endpoint for r in app.url_map.iter_rules()}


def test_the_matrix_is_built_from_the_url_map_of_the_app_under_test(app):
    assert {r.endpoint for r in app.url_map.iter_rules()} == set(ENDPOINTS)


@pytest.mark.parametrize(("route", "role", "variant"), list(_denial_cases()))
def test_denied_requests_are_refused_and_write_nothing(app, client, db, login_as, csrf, caplog, route, role,
                                                       variant):
    caplog.set_level(logging.INFO)
    world = World(role)
    db.session.commit()
    if world.user is not None:
        login_as(world.user)
    token = csrf()
    with app.test_request_context():
        url = url_for(route.endpoint, **world.url_values(route, variant))
    # Volunteers ask for the neighbour's records as htmx fragments: no fragment may leak either.
    headers = {"HX-Request": "true"} if role == "anonymous-htmx" or variant == "neighbour" else {}
    before = dbstate.contents()

    def send():
        if route.method == "GET":
            return client.get(url, headers=headers)
        return client.open(url, method=route.method, headers=headers,
                           data={**world.form_data(route.endpoint), "csrf_token": token})

    response = send()
    if world.user is not None and _asks_for_password(response):
        # Sensitive actions ask for the password first (crm.auth.reauth); confirmed, the refusal must follow.
        assert dbstate.contents() == before
        confirmed = client.post("/confirm-password", data={"password": factories.PASSWORD, "csrf_token": token})
        assert confirmed.status_code == 302
        before = dbstate.contents()
        caplog.clear()
        response = send()

    body = response.get_data(as_text=True)
    if role == "anonymous":
        assert response.status_code == 302, body
        assert response.headers["Location"].startswith("/login")
    elif role == "anonymous-htmx":
        assert response.status_code == 401, body
        if route.method == "GET":
            assert response.headers["HX-Redirect"].startswith("/login")
        else:  # a form being sent keeps its page (and what was typed): a message, not the login page
            assert "HX-Redirect" not in response.headers and "<form" not in body
    else:
        assert response.status_code in (403, 404), body
    for secret in world.secrets():
        assert secret not in body
    assert dbstate.contents() == before
    if role != "anonymous":  # (an anonymous page request is sent to sign in: a redirect, not a denial)
        user = world.user.id if world.user is not None else None
        denied = [r.getMessage() for r in caplog.records if r.getMessage().startswith("denied ")]
        assert f"denied {route.method} {route.endpoint} status={response.status_code} user={user}" in denied
        for record in caplog.records:  # no personal data in any log line
            assert not any(secret in record.getMessage() for secret in world.secrets())


def _asks_for_password(response) -> bool:
    target = response.headers.get("HX-Redirect") or response.headers.get("Location") or ""
    return response.status_code in (200, 302) and target.startswith("/confirm-password")


def _positive_cases():
    """GET pages each allowed role opens, built from records it may reach."""
    for route in ROUTES:
        access = policy.ROUTE_ACCESS.get(route.endpoint)
        if route.method != "GET" or access in (None, policy.PUBLIC):
            continue
        if not route.endpoint.startswith(("auth.", "members.", "audit.", "admin.")):
            continue  # other domains' pages need their own records and parameters: their tests open them
        if set(route.arguments) - {"member_id", "user_id"}:
            continue  # a child record's page (a note's delete confirmation): its own tests open it (tests/ux)
        for role in ("volunteer", "counsellor", "supervisor", "admin"):
            if _allowed(role, route.endpoint):
                yield pytest.param(route, role, id=f"{route.endpoint}-{role}")


@pytest.mark.parametrize(("route", "role"), list(_positive_cases()))
def test_allowed_roles_open_their_pages(app, client, db, login_as, route, role):
    world = World(role)
    member = world.neighbour_member if role in ("supervisor", "admin") else world.own_member
    db.session.commit()
    login_as(world.user)
    with app.test_request_context():
        known = {"member_id": member.id, "user_id": world.neighbour.id}
        url = url_for(route.endpoint, **{k: v for k, v in known.items() if k in route.arguments})
    response = client.get(url)
    assert response.status_code in (200, 302), response.get_data(as_text=True)
    if response.status_code == 302:
        assert not response.headers["Location"].startswith("/login")


def test_a_volunteer_opens_their_own_case_file(client, db, login_as):
    world = World("volunteer")
    db.session.commit()
    login_as(world.user)
    response = client.get(f"/members/{world.own_member.id}")
    assert response.status_code == 200
    assert world.own_member.name in response.get_data(as_text=True)


def test_a_supervisor_opens_the_team_page_and_a_case_file_of_the_branch(client, db, login_as):
    world = World("supervisor")
    db.session.commit()
    login_as(world.user)
    team = client.get("/members/team")
    assert team.status_code == 200 and world.neighbour.display_name in team.get_data(as_text=True)
    assert world.stranger.display_name not in team.get_data(as_text=True)
    assert client.get(f"/members/{world.neighbour_member.id}").status_code == 200


def test_an_admin_opens_the_audit_log_users_and_any_case_file(client, db, login_as):
    world = World("admin")
    db.session.commit()
    login_as(world.user)
    assert client.get(f"/members/{world.foreign_member.id}").status_code == 200
    log = client.get("/audit/")
    assert log.status_code == 200 and "member.view" in log.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 200


def test_a_volunteers_search_shows_only_their_own_members(client, db, login_as):
    world = World("volunteer")
    db.session.commit()
    login_as(world.user)
    page = client.get("/members/search?owner=" + str(world.neighbour.id)).get_data(as_text=True)
    assert world.neighbour_member.name not in page and world.foreign_member.name not in page
    page = client.get("/members/search").get_data(as_text=True)
    assert world.own_member.name in page
    assert world.neighbour_member.name not in page and world.foreign_member.name not in page


def test_a_supervisor_cannot_bulk_reassign_a_member_of_another_branch(client, db, login_as, csrf):
    world = World("supervisor")
    db.session.commit()
    login_as(world.user)
    token = csrf()
    before = dbstate.contents()
    response = client.post("/members/reassign", data={**world.form_data("members.reassign_bulk"), "csrf_token": token})
    assert response.status_code == 422
    assert world.foreign_member.name not in response.get_data(as_text=True)
    assert dbstate.contents() == before


# --- Record-level rules, as a table ----------------------------------------------------------

def _people():
    a, b = factories.make_branch(), factories.make_branch()
    people = {
        "volunteer": factories.make_user("volunteer", branch=a),
        "volunteer_b": factories.make_user("volunteer", branch=b),
        "supervisor": factories.make_user("supervisor", branch=a),
        "supervisor_b": factories.make_user("supervisor", branch=b),
        "admin": factories.make_user("admin", branch=b),
        "counsellor": factories.make_user("counsellor", branch=a),
        "volunteer_supervisor": factories.make_user(Role.VOLUNTEER | Role.SUPERVISOR, branch=b),
        "inactive_volunteer": factories.make_user("volunteer", branch=a, is_active_user=False),
    }
    people["colleague"] = factories.make_user("volunteer", branch=a)
    return people


CAN_TABLE = [
    # user, whose member (owner key), view, edit, verify/reassign
    ("volunteer", "volunteer", True, True, False),
    ("volunteer", "colleague", False, False, False),
    ("volunteer", "volunteer_b", False, False, False),
    ("volunteer", None, False, False, False),  # the branch pool
    ("supervisor", "colleague", True, True, True),
    ("supervisor", None, True, True, True),
    ("supervisor", "volunteer_b", False, False, False),
    ("supervisor_b", "volunteer", False, False, False),
    ("admin", "volunteer", True, True, True),
    ("admin", None, True, True, True),
    ("counsellor", "volunteer", False, False, False),
    ("counsellor", "colleague", False, False, False),
    ("volunteer_supervisor", "volunteer_b", True, True, True),
    ("volunteer_supervisor", "volunteer", False, False, False),
]


@pytest.mark.parametrize(("who", "owner", "view", "edit", "manage"), CAN_TABLE)
def test_member_permissions(db, who, owner, view, edit, manage):
    people = _people()
    user = people[who]
    owner_user = people[owner] if owner else None
    branch = owner_user.branch if owner_user else people["volunteer"].branch
    member = factories.make_member(owner=owner_user, branch=branch)
    visible = db.session.scalars(select(Member.id).where(policy.visible_members_clause(user))).all()
    assert policy.can_view_member(user, member) is view
    assert (member.id in visible) is view
    assert policy.can_edit_member(user, member) is edit
    assert policy.can_verify_member(user, member) is manage
    assert policy.can_reassign_member(user, member) is manage


@pytest.mark.parametrize(("who", "target", "allowed"), [
    ("supervisor", "colleague", True),
    ("supervisor", "volunteer_b", False),
    ("supervisor", "inactive_volunteer", False),
    ("supervisor", "counsellor", False),
    ("admin", "volunteer", True),
    ("admin", "volunteer_b", True),
    ("volunteer", "colleague", False),
    ("counsellor", "volunteer", False),
])
def test_who_may_be_given_cases(db, who, target, allowed):
    people = _people()
    assert policy.can_assign_to(people[who], people[target]) is allowed


@pytest.mark.parametrize(("who", "author", "allowed"), [
    ("volunteer", "volunteer", True),    # the author corrects their own note
    ("volunteer", "supervisor", False),  # but not the supervisor's note on their member
    ("supervisor", "volunteer", True),   # the supervisor of the branch corrects anyone's
    ("supervisor_b", "volunteer", False),
    ("admin", "volunteer", True),
    ("counsellor", "volunteer", False),
    ("colleague", "colleague", False),   # wrote it, but the member is no longer theirs
])
def test_who_may_correct_a_note(db, who, author, allowed):
    people = _people()
    member = factories.make_member(owner=people["volunteer"])
    note = factories.make_note(member, people[author])
    assert policy.can_edit_note(people[who], note, member) is allowed


@pytest.mark.parametrize(("who", "allowed"), [
    ("volunteer", False), ("counsellor", False), ("supervisor", True), ("admin", True),
    ("volunteer_supervisor", True)])
def test_who_sees_the_team(db, who, allowed):
    assert policy.can_view_team(_people()[who]) is allowed


def test_an_endpoint_missing_from_the_table_is_refused(db):
    user = factories.make_user("admin")
    assert policy.route_allows(user, "no.such.endpoint") is False


def _int_routes():
    for route in ROUTES:
        if route.int_arguments and policy.ROUTE_ACCESS.get(route.endpoint) not in (None, policy.PUBLIC):
            yield pytest.param(route, id=f"{route.endpoint}-{route.method}")


@pytest.mark.parametrize("route", list(_int_routes()))
@pytest.mark.parametrize("huge", [2**63, 10**30])
def test_ids_too_large_for_the_database_are_not_found(app, client, db, login_as, csrf, route, huge):
    """Not a 500 from the database driver: an id beyond 64 bits cannot exist."""
    login_as(factories.make_user(Role.VOLUNTEER | Role.COUNSELLOR | Role.SUPERVISOR | Role.ADMIN))
    token = csrf()
    values = {name: huge if name in route.int_arguments else "x" for name in route.arguments}
    with app.test_request_context():
        url = url_for(route.endpoint, **values)
    before = dbstate.contents()
    response = client.open(url, method=route.method, data={"csrf_token": token} if route.method != "GET" else None)
    assert response.status_code == 404
    assert dbstate.contents() == before


@pytest.mark.parametrize(("who", "check", "allowed"), [
    ("volunteer", "consent", True), ("volunteer", "realname", False), ("volunteer", "pledge", False),
    ("colleague", "consent", False), ("supervisor", "consent", True), ("supervisor", "employer", True),
    ("supervisor_b", "consent", False), ("admin", "realname", True), ("counsellor", "consent", False),
])
def test_who_may_record_each_verification_step(db, who, check, allowed):
    people = _people()
    member = factories.make_member(owner=people["volunteer"], verified=False)
    assert policy.can_record_check(people[who], member, check) is allowed
