"""Issue 11 without a browser: every form field of every page has a name a screen reader can say.

Every GET page of the URL map (tests/auth/test_policy.ROUTES, the URL arguments from tests/security/scene.py,
as one user who holds every role, and the public pages signed out), and every form the fuzzer discovers
(tests/security/test_form_fuzz.CASES) posted empty so that it comes back with its errors: each visible input,
select and textarea has a <label for> pointing at it (or wraps it), or aria-label / aria-labelledby; the ids
labels and aria-describedby point at exist and are unique; a field marked aria-invalid says why through
aria-describedby. A page or form added tomorrow is checked without touching this file.
"""

from collections import Counter
from html.parser import HTMLParser

import pytest
from flask import url_for

from crm.auth import policy
from tests.auth.test_policy import ROUTES
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.security.scene import Scene
from tests.security.test_form_fuzz import CASES

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}
# POSTs that would end the session the rest of the check needs.
NOT_POSTED = {"auth.logout", "auth.set_language"}


class Page(HTMLParser):
    """The controls, labels and ids of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.controls: list[dict] = []  # attributes of each control, plus "_in_label" and "_line"
        self.label_for: list[str] = []
        self.ids: Counter = Counter()
        self.described: list[tuple[str, str]] = []  # (control, the id its aria-describedby names)
        self.errors: set[str] = set()  # ids of elements with class "error"
        self.form_actions: list[str] = []
        self._labels = 0

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if attrs.get("id"):
            self.ids[attrs["id"]] += 1
            if "error" in attrs.get("class", "").split():
                self.errors.add(attrs["id"])
        if tag == "label":
            self._labels += 1
            if attrs.get("for"):
                self.label_for.append(attrs["for"])
        elif tag == "form":
            self.form_actions.append(attrs.get("action", ""))
        elif tag in ("input", "select", "textarea"):
            if tag == "input" and attrs.get("type", "text").lower() in UNLABELLED_TYPES:
                return
            if "hidden" in attrs:
                return
            attrs["_tag"], attrs["_in_label"], attrs["_line"] = tag, self._labels > 0, self.getpos()[0]
            self.controls.append(attrs)

    def handle_endtag(self, tag):
        if tag == "label" and self._labels:
            self._labels -= 1

    def problems(self) -> list[str]:
        found = []
        labelled = set(self.label_for)
        for c in self.controls:
            name = f"<{c['_tag']} name={c.get('name')!r} id={c.get('id')!r}> (line {c['_line']})"
            by = c.get("aria-labelledby", "").split()
            if by and not all(self.ids[i] for i in by):
                found.append(f"{name}: aria-labelledby names a missing id")
            if not (c["_in_label"] or c.get("aria-label", "").strip() or by or c.get("id") in labelled):
                found.append(f"{name}: no <label for>, enclosing label, aria-label or aria-labelledby")
            if c.get("id") and self.ids[c["id"]] > 1 and not c["_in_label"]:
                found.append(f"{name}: its id is used {self.ids[c['id']]} times, so its label may name another")
            for ref in c.get("aria-describedby", "").split():
                self.described.append((name, ref))
                if not self.ids[ref]:
                    found.append(f"{name}: aria-describedby names a missing id {ref!r}")
            if c.get("aria-invalid") == "true" and not set(c.get("aria-describedby", "").split()) & self.errors:
                found.append(f"{name}: aria-invalid without aria-describedby pointing at its error message")
        for target in sorted(labelled):
            if not self.ids[target]:
                found.append(f"<label for={target!r}> points at no element")
        return found


def check(html: str) -> tuple[list[str], Page]:
    page = Page()
    page.feed(html)
    page.close()
    return page.problems(), page


def _log_in(client, user):
    response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302


def _html(response) -> str | None:
    return response.get_data(as_text=True) if response.mimetype == "text/html" else None


def test_the_check_finds_unlabelled_and_mislabelled_fields():
    problems, _ = check("""<form><label for="a">A</label><input id="a" name="a">
      <label>B <input name="b"></label><input name="c" aria-label="C"><span id="dl">D</span>
      <input name="d" aria-labelledby="dl"><input type="hidden" name="h"><input type="submit">
      <input name="bad"><select name="s2"></select><label for="nowhere">X</label>
      <input id="e" name="e" aria-invalid="true" aria-describedby="e-help"><p id="e-help">help</p>
      <label for="twice">T</label><input id="twice" name="t1"><input id="twice" name="t2" aria-label="T2">
      </form>""")
    text = "\n".join(problems)
    assert "name='bad'" in text and "name='s2'" in text and "'nowhere'" in text
    assert "name='e'" in text and "aria-invalid" in text
    assert "name='t1'" in text and "used 2 times" in text
    assert not any(f"name='{n}'" in text for n in "abcdh")


@pytest.mark.slow
def test_every_field_of_every_page_and_form_has_a_label(app, client, db):
    scene = Scene()
    db.session.commit()
    _log_in(client, scene.user)
    anonymous = app.test_client()
    failures, pages, actions = [], 0, set()

    def look(where, response):
        nonlocal pages
        html = _html(response)
        if html is None:
            return
        pages += 1
        problems, page = check(html)
        actions.update(page.form_actions)
        failures.extend(f"{where}: {p}" for p in problems)

    for route in ROUTES:
        if route.method != "GET" or scene.unknown_arguments(route) or route.endpoint == "static":
            continue
        with app.test_request_context():
            url = url_for(route.endpoint, **scene.url_values(route))
        public = policy.ROUTE_ACCESS.get(route.endpoint) == policy.PUBLIC
        look(f"GET {url}", (anonymous if public else client).get(url))

    posted = 0
    for case in CASES:
        route, form_cls = case.values
        if form_cls is None or route.endpoint in NOT_POSTED or scene.unknown_arguments(route):
            continue
        public = policy.ROUTE_ACCESS.get(route.endpoint) == policy.PUBLIC
        who = anonymous if public else client
        with app.test_request_context():
            url = url_for(route.endpoint, **scene.url_values(route))
        # Empty: the form comes back with its errors (a 422 page), which must stay labelled.
        response = who.post(url, data={"csrf_token": csrf_token(who)})
        db.session.rollback()
        posted += 1
        look(f"POST {url} (empty {form_cls.__name__})", response)

    # The sweep really covered the app, not a login page a hundred times.
    assert pages > 60 and posted > 30, (pages, posted)
    assert len(actions) > 30, sorted(actions)
    assert not failures, "\n".join(failures)
