"""Hypothesis fuzzing of every form: each POST endpoint of the URL map, with the WTForms forms its view
uses (found in the view's code, so a form added tomorrow is fuzzed without touching this file), gets
generated values (text with NUL bytes, huge strings, unicode, negative and huge numbers, bad dates,
unknown choices, missing fields), with a valid CSRF token, as a user allowed to use it (every role, owning
the records of tests/security/scene.py). Never a 5xx; a refusal writes nothing. Runs on SQLite and on
PostgreSQL (scripts/with-pg.sh), where a NUL reaching the database would be a 500.
"""

import inspect
import types

import pytest
from flask import url_for
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms import fields as wtf
from wtforms.fields import FormField
from wtforms.fields.core import UnboundField

from crm.auth import policy
from crm.security import CSRF_HEADER
from tests import dbstate
from tests.auth.test_policy import ROUTES, RouteCase
from tests.conftest import _empty_all_tables, csrf_token
from tests.security.scene import Scene

FUZZ_SETTINGS = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                HealthCheck.data_too_large])
# Refusals that are meant to write: a wrong password counts towards the rate limit and is audited.
WRITES_ON_REFUSAL = {"auth.login", "auth.confirm_password"}

HOSTILE_TEXT = ["", " ", "\x00", "a\x00b", "\x00" * 3, "长" * 20_000, "x" * 100_000, "😀🎉👨‍👩‍👧", "\u200b\u202e",
                "'; DROP TABLE members; --", "<script>alert(1)</script>", "%_\\", "\r\n\t", "\x1b[31m", "\ud7ff",
                "１３９１２３４５６７８", "-1", "0", "9" * 40]
HOSTILE_NUMBERS = ["", "abc", "-1", "0", "-0", "1e309", "NaN", "inf", "-inf", "1.5", "１２", "9" * 400,
                   str(2**63), str(-(2**63) - 1), "\x00", "1\x00"]
HOSTILE_DATES = ["", "abc", "2026-02-30", "0000-00-00", "0001-01-01", "9999-12-31", "99999-01-01", "1994/03/08",
                 "2026-13-01", "\x00", "2026-01-01\x00"]


# --- Which forms each POST endpoint uses ------------------------------------------------------

def forms_used_by(view) -> list[type[FlaskForm]]:
    """FlaskForm subclasses the view's code names (directly, through a module, or in nested code)."""
    view = inspect.unwrap(view)
    found: set[type[FlaskForm]] = set()

    def walk(code, namespace):
        modules = [v for v in namespace.values() if isinstance(v, types.ModuleType)]
        for name in code.co_names:
            for obj in [namespace.get(name), *(getattr(m, name, None) for m in modules)]:
                if isinstance(obj, type) and issubclass(obj, FlaskForm):
                    found.add(obj)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                walk(const, namespace)

    walk(view.__code__, view.__globals__)
    return sorted(found, key=lambda f: f.__qualname__)


def raw_field_names(view) -> list[str]:
    """String constants in a view without a form: the names of request.form fields it may read."""
    code = inspect.unwrap(view).__code__
    return sorted({c for c in code.co_consts if isinstance(c, str) and c.isidentifier() and len(c) < 40})


def _cases():
    from crm import create_app
    from crm.config import TestConfig
    app = create_app(TestConfig)
    for route in ROUTES:
        if route.method != "POST":
            continue
        view = app.view_functions[route.endpoint]
        forms = forms_used_by(view)
        for form in forms or [None]:
            name = form.__qualname__ if form else "raw"
            yield pytest.param(route, form, id=f"{route.endpoint}-{name}")


CASES = list(_cases())


# --- Values ------------------------------------------------------------------------------------

def _choice_values(choices) -> list[str]:
    if callable(choices):
        choices = choices()
    if isinstance(choices, dict):  # option groups
        choices = [c for group in choices.values() for c in group]
    values = []
    for choice in choices or []:
        value = getattr(choice, "value", None) if not isinstance(choice, (tuple, list)) else choice[0]
        values.append(str(value if value is not None else choice))
    return values


def _text():
    return st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=60),
                     st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20))


def _numbers():
    return st.one_of(st.sampled_from(HOSTILE_NUMBERS), st.integers(-(10**30), 10**30).map(str),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr))


def _dates():
    return st.one_of(st.sampled_from(HOSTILE_DATES), st.dates().map(lambda d: d.isoformat()))


def field_strategy(unbound: UnboundField, ids: list[str]):
    cls = unbound.field_class
    if issubclass(cls, wtf.BooleanField):
        value = st.sampled_from(["y", "", "false", "\x00", "长" * 1000])
    elif issubclass(cls, (wtf.IntegerField, wtf.FloatField, wtf.DecimalField)):
        value = _numbers()
    elif issubclass(cls, (wtf.DateField, wtf.DateTimeField, wtf.TimeField)):
        value = _dates()
    elif issubclass(cls, (wtf.SelectFieldBase,)):
        known = _choice_values(unbound.kwargs.get("choices")) + ids
        one = st.one_of(st.sampled_from(known or ["x"]), _text(), _numbers())
        value = st.lists(one, max_size=5) if issubclass(cls, wtf.SelectMultipleField) else one
    elif issubclass(cls, wtf.HiddenField):
        value = st.one_of(st.sampled_from(ids + ["1", "0", "-1"]), _numbers(), _text())
    elif issubclass(cls, (wtf.FileField, FormField, wtf.FieldList)):
        return st.none()  # files and nested forms: left out (their own tests post them)
    else:
        value = _text()
    return st.one_of(st.none(), value, value, value)  # None: the field is missing from the post


def form_strategy(app, form_cls, route: RouteCase, scene_ids: list[str]):
    with app.test_request_context():
        if form_cls is None:
            names = raw_field_names(app.view_functions[route.endpoint])
            fields = {name: st.one_of(st.none(), st.sampled_from(scene_ids), _text(), _numbers()) for name in names}
        else:
            fields = {}
            for name in dir(form_cls):
                unbound = getattr(form_cls, name, None)
                if isinstance(unbound, UnboundField) and name != "csrf_token":
                    fields[name] = field_strategy(unbound, scene_ids)
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not None})


# --- The test ----------------------------------------------------------------------------------

def _contents() -> dict:
    """The database, less rate-limit counters: a refused attempt counting towards a limit is the point."""
    return {table: rows for table, rows in dbstate.contents().items() if "rate_limit" not in table}


def _refused(response) -> bool:
    if 400 <= response.status_code < 500:
        return True
    if response.status_code < 300 and response.mimetype == "text/html":
        page = response.get_data(as_text=True)
        return 'class="error"' in page or "has-error" in page or "flash-error" in page
    return False


class Stage:
    """The scene, rebuilt after an example that wrote something (the next one starts from the same state)."""

    def __init__(self, app, client, db, public: bool):
        self.app, self.client, self.db, self.public = app, client, db, public
        self.dirty = True

    def ready(self):
        if not self.dirty:
            return
        self.db.session.remove()
        _empty_all_tables()
        self.client._cookies.clear()
        self.scene = Scene()
        self.db.session.commit()
        self.ids = [str(v) for v in self.scene.known.values() if isinstance(v, int)]
        user = self.scene.user
        if not self.public:
            from tests.factories import PASSWORD
            token = csrf_token(self.client)
            response = self.client.post("/login", data={"username": user.username, "password": PASSWORD,
                                                        "csrf_token": token})
            assert response.status_code == 302
        self.token = csrf_token(self.client)
        self.dirty = False


def test_every_post_endpoint_is_fuzzed():
    fuzzed = {case.values[0].endpoint for case in CASES}
    posts = {r.endpoint for r in ROUTES if r.method == "POST"}
    assert fuzzed == posts


@pytest.mark.parametrize(("route", "form_cls"), CASES)
def test_fuzzed_forms_never_fail_and_refusals_write_nothing(app, client, db, route, form_cls):
    stage = Stage(app, client, db, public=policy.ROUTE_ACCESS.get(route.endpoint) == policy.PUBLIC)
    stage.ready()
    unknown = stage.scene.unknown_arguments(route)
    assert not unknown, (f"{route.endpoint}: tests/security/scene.py has no record for the URL argument(s) "
                         f"{unknown}; add one so that its form is fuzzed")

    @FUZZ_SETTINGS
    @given(data=form_strategy(app, form_cls, route, stage.ids), htmx=st.booleans())
    def check(data, htmx):
        stage.ready()
        with app.test_request_context():
            url = url_for(route.endpoint, **stage.scene.url_values(route))
        before = _contents()
        response = client.post(url, data={**data, "csrf_token": stage.token},
                               headers={"HX-Request": "true"} if htmx else {})
        body = response.get_data(as_text=True) if response.mimetype.startswith("text/") else ""
        try:
            assert response.status_code < 500, body[:3000]
            # The token was valid and the user signed in: neither may be what was refused.
            assert CSRF_HEADER not in response.headers and response.status_code != 401, body[:500]
            after = _contents()
            if _refused(response) and route.endpoint not in WRITES_ON_REFUSAL:
                assert after == before, f"{route.endpoint} refused ({response.status_code}) but wrote"
        finally:
            db.session.rollback()
            stage.dirty = stage.dirty or _contents() != before or route.endpoint == "auth.logout"

    check()
