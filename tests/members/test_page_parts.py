"""The parts of every page built once instead of per item (crm/menu.py, the case file's notes): same links, same
permissions, same labels as the per-item checks they replace."""

import re

import pytest
from flask import url_for

from crm import menu
from crm.auth import policy
from crm.auth.models import Role
from crm.i18n import gettext
from tests import factories

ROLE_SETS = [Role.VOLUNTEER, Role.SUPERVISOR, Role.ADMIN, Role.COUNSELLOR, Role.VOLUNTEER | Role.COUNSELLOR,
             Role.SUPERVISOR | Role.VOLUNTEER]


def _menu_links(html):
    nav = html.split('<nav aria-label=', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', nav)


def _expected(user):
    """The menu as base.html wrote it item by item before crm/menu.py."""
    out = []
    for endpoint, msgid, gate in menu.ITEMS:
        shown = (user.has_role(Role.VOLUNTEER) if gate == "volunteer"
                 else policy.route_allows(user, gate or endpoint))
        if shown:
            out.append((url_for(endpoint), gettext(msgid)))
    return out


@pytest.mark.parametrize("roles", ROLE_SETS, ids=lambda r: str(r.value))
@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
def test_the_menu_shows_each_role_set_the_pages_it_may_open_in_its_language(app, client, db, login_as, csrf,
                                                                            roles, lang):
    user = login_as(factories.make_user(roles))
    client.post("/language", data={"lang": lang, "next": "/", "csrf_token": csrf()})
    html = client.get("/account/password").get_data(as_text=True)
    with app.test_request_context("/"):
        from flask import session
        session["lang"] = lang
        expected = _expected(user)
    assert _menu_links(html) == expected
    assert expected, "every role has at least one page in the menu"
    if lang.startswith("zh"):
        assert not any(label.isascii() for _, label in expected)


def test_the_menu_is_built_once_per_role_set_and_language(app, client, db, login_as, csrf, monkeypatch):
    login_as("supervisor")
    first = client.get("/account/password").get_data(as_text=True)
    checks = []
    real = policy.route_allows
    monkeypatch.setattr(policy, "route_allows", lambda user, endpoint: checks.append(endpoint) or real(user, endpoint))
    again = client.get("/account/password").get_data(as_text=True)
    assert _menu_links(again) == _menu_links(first)
    assert "members.team" not in checks  # the menu's checks were not repeated (the route gate itself still runs)
    # Another role set gets its own menu: a volunteer has no Team page.
    client.post("/logout", data={"csrf_token": csrf()})
    login_as("volunteer")
    links = dict(_menu_links(client.get("/account/password").get_data(as_text=True)))
    assert "/members/team" not in links and "/members/" in links


def test_note_edit_check_agrees_with_can_edit_and_can_delete_note(app, db):
    branch = factories.make_branch()
    owner = factories.make_user("volunteer", branch=branch)
    other = factories.make_user("volunteer", branch=branch)
    supervisor = factories.make_user("supervisor", branch=branch)
    foreign_supervisor = factories.make_user("supervisor")
    admin = factories.make_user("admin")
    counsellor = factories.make_user("counsellor", branch=branch)
    member = factories.make_member(owner=owner)
    notes = [factories.make_note(member, owner), factories.make_note(member, supervisor),
             factories.make_note(member, other)]
    for user in (owner, other, supervisor, foreign_supervisor, admin, counsellor):
        check = policy.note_edit_check(user, member)
        for note in notes:
            assert check(note) == policy.can_edit_note(user, note, member) == policy.can_delete_note(
                user, note, member), (user.roles, note.author_id)


def test_the_case_file_offers_correction_and_deletion_exactly_where_allowed(app, client, db, login_as, csrf):
    volunteer = factories.make_user("volunteer")
    supervisor = factories.make_user("supervisor", branch=volunteer.branch)
    member = factories.make_member(owner=volunteer)
    own = factories.make_note(member, volunteer, body="自己的记录")
    theirs = factories.make_note(member, supervisor, body="主管的记录")
    db.session.commit()
    member_id, own_id, theirs_id = member.id, own.id, theirs.id

    def offered(html):
        notes = f"/members/{member_id}/notes/"
        edits = set(re.findall(rf'<form method="post" action="{notes}(\d+)" hx-post="{notes}\1"', html))
        deletes = set(re.findall(rf'href="{notes}(\d+)/delete" hx-post="{notes}\1/delete"', html))
        tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"><input type="hidden" name="version"', html))
        return edits, deletes, tokens

    login_as(volunteer)
    edits, deletes, tokens = offered(client.get(f"/members/{member_id}").get_data(as_text=True))
    assert edits == deletes == {str(own_id)}
    assert len(tokens) == 1 and all(tokens)
    client.post("/logout", data={"csrf_token": csrf()})
    login_as(supervisor)
    edits, deletes, _ = offered(client.get(f"/members/{member_id}").get_data(as_text=True))
    assert edits == deletes == {str(own_id), str(theirs_id)}
    # The URLs the page offers are the ones the routes answer: correcting the supervisor's note works.
    with app.test_request_context():
        assert url_for("members.edit_note", member_id=member_id, note_id=theirs_id) == \
            f"/members/{member_id}/notes/{theirs_id}"
        assert url_for("members.delete_note", member_id=member_id, note_id=theirs_id) == \
            f"/members/{member_id}/notes/{theirs_id}/delete"


# The field macro as it was written in Jinja before crm/formfield.py took over its body (commit 133b6b9).
OLD_FIELD_MACRO = '''{% macro field(f, wrap_class="") %}
{% set fid = kwargs.get("id", f.id) %}
{% set described = [] %}
{% if f.description %}{% set _ = described.append(fid ~ "-help") %}{% endif %}
{% if f.errors %}{% set _ = described.append(fid ~ "-error") %}{% endif %}
{% set aria = {"aria-describedby": described|join(" ")} if described else {} %}
{% if f.errors %}{% set _ = aria.update({"aria-invalid": "true"}) %}{% endif %}
{% set attrs = dict(kwargs) %}{% set _ = attrs.update(aria) %}
<div class="field {{ wrap_class }} {{ 'has-error' if f.errors }} field-{{ f.type|lower }}">
  {% if f.type in ("RadioField", "MultiCheckboxField") %}
  <fieldset>
    <legend>{{ f.label.text }}@REQ@</legend>
    <div class="options">
    {% for option in f %}
      <label class="option">{{ option(**aria) }} {{ option.label.text }}</label>
    {% endfor %}
    </div>
  </fieldset>
  {% elif f.type == "BooleanField" %}
  <label class="option">{{ f(**attrs) }} {{ f.label.text }}</label>
  {% else %}
  <label for="{{ fid }}">{{ f.label.text }}@REQ@</label>
  {{ f(**attrs) }}
  {% endif %}
  {% if f.description %}<p class="help" id="{{ fid }}-help">{{ f.description }}</p>{% endif %}
  {% if f.errors %}<p class="error" id="{{ fid }}-error">{{ f.errors|join(punct.sentence) }}</p>{% endif %}
</div>
{% endmacro %}'''.replace("@REQ@", '{% if f.flags.required %} <span class="req" aria-hidden="true">*</span>{% endif %}')


def _squeeze(html):
    return re.sub(r"\s+", " ", html).strip()


@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
@pytest.mark.parametrize("posted", [False, True], ids=["blank", "refused"])
def test_the_field_macro_writes_the_html_of_its_jinja_version(app, db, lang, posted):
    """Every kind of field (text, select, date, radio, checkboxes, box, with help, required, refused with messages,
    an id and attributes passed in) comes out tag for tag as the Jinja macro wrote it (only the blank lines its
    {% set %} lines left differ)."""
    from werkzeug.datastructures import MultiDict

    from crm.intake.forms import ApplicationForm
    from crm.members.forms import BulkReassignForm, MemberForm, NoteForm

    old = app.jinja_env.from_string(OLD_FIELD_MACRO + "{{ field(f, wrap_class=w, **kw) }}")
    new = app.jinja_env.from_string('{% from "macros/forms.html" import field %}{{ field(f, wrap_class=w, **kw) }}')
    data = MultiDict({"name": "<b>x</b>" * 30, "height_cm": "12", "phone": "123", "body": ""}) if posted else None
    with app.test_request_context("/", method="POST" if posted else "GET", data=data):
        from flask import session
        session["lang"] = lang
        forms = [ApplicationForm(formdata=data, meta={"csrf": False}), MemberForm(formdata=data, meta={"csrf": False}),
                 NoteForm(formdata=data, meta={"csrf": False}), BulkReassignForm(formdata=data, meta={"csrf": False})]
        for form in forms:
            for f in form:
                if getattr(f, "choices", None) is None and f.type in ("SelectField", "RadioField",
                                                                        "MultiCheckboxField"):
                    f.choices = []
            if posted:
                form.validate()
            kinds = set()
            for f in form:
                if f.type in ("CSRFTokenField", "HiddenField"):
                    continue
                kinds.add(f.type)
                for w, kw in (("", {}), ("wide <x>", {"id": f"other-{f.id}", "rows": 3, "data-x": "a\"b"})):
                    assert _squeeze(new.render(f=f, w=w, kw=kw)) == _squeeze(old.render(f=f, w=w, kw=kw)), (f.name, kw)
        assert not posted or any(f.errors for form in forms for f in form)
    assert {"StringField", "SelectField", "RadioField", "MultiCheckboxField", "BooleanField"} <= kinds | {
        f.type for form in forms for f in form}
