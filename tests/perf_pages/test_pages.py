"""The everyday pages' fast paths (issue 10): exact statement counts, and the same page as before.

The caseload's rows come from one column select (crm.members.listing) and are shown as ready-made
text; translations are memoized per request (crm.i18n) and selects are written directly
(crm.widgets). These tests pin the statement counts and check every cell, every language switch and
every select shape against what the slower code produced.
"""

from datetime import date, datetime

import pytest
from flask_babel import force_locale
from markupsafe import Markup
from wtforms import Form
from wtforms.fields import SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired
from wtforms.widgets import Select

from crm import clock, i18n
from crm.auth.models import User
from crm.members.models import Gender, MemberStatus
from crm.widgets import FastSelect
from tests import dbstate, factories


def _get(client, count_queries, url):
    dbstate.as_a_new_request()
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True), statements


@pytest.mark.parametrize("members", [1, 60])
def test_the_caseload_is_two_statements_whatever_its_size(client, db, login_as, count_queries, members):
    volunteer = factories.make_user("volunteer")
    for _ in range(members):
        factories.make_member(owner=volunteer)
    db.session.commit()
    login_as(volunteer)
    _html, statements = _get(client, count_queries, "/members/")
    # The sign-in session (with its user) and the page of members with the total: nothing else.
    assert len(statements) == 2, "\n\n".join(statements)
    assert "FROM user_sessions" in statements[0] and "FROM members" in statements[1]


@pytest.mark.parametrize("members", [1, 40])
def test_a_supervisors_member_list_is_four_statements_whatever_its_size(client, db, login_as, count_queries,
                                                                          members):
    supervisor = login_as("supervisor")
    volunteer = factories.make_user("volunteer", branch=supervisor.branch)
    for _ in range(members):
        factories.make_member(owner=volunteer)
    db.session.commit()
    html, statements = _get(client, count_queries, "/members/search")
    # Session, the branch's volunteers (owner filter and bulk reassignment share them), the rows, and the
    # supervisors' open risk alerts (the banner of list pages).
    assert len(statements) == 4, "\n\n".join(statements)
    assert "FROM members" in statements[2] and "FROM risk_alerts" in statements[3]
    assert html.count('name="member_ids"') == members


def test_every_cell_of_a_caseload_row(client, db, login_as):
    volunteer = factories.make_user("volunteer", display_name="林红娘")
    born = date(1990, 1, 1)
    # 20:30 UTC on 3 November is 4 November in Asia/Shanghai: the list shows the local date.
    contacted = factories.make_member(owner=volunteer, name="陈静", gender=Gender.MALE, birth_date=born,
                                      work_district="滨江区", last_contact_at=datetime(2026, 11, 3, 20, 30))
    fresh = factories.make_member(owner=volunteer, name="李娜", verified=False, pledge_signed_at=datetime(2026, 1, 1))
    db.session.commit()
    login_as(volunteer)
    html = client.get("/members/").get_data(as_text=True)
    today = clock.today()
    age = today.year - 1990 - ((today.month, today.day) < (1, 1))
    assert f'<a href="/members/{contacted.id}">陈静</a>' in html
    assert f'<span class="muted">Male · {age} yrs</span>' in html
    assert '<span class="status status-active">Active</span>' in html
    assert '<span class="checks" title="Verification steps done">4/4</span>' in html
    assert '<td data-label="District">滨江区</td>' in html
    assert '<td data-label="Volunteer">林红娘</td>' in html
    assert '<td data-label="Last contact">Nov 4, 2026</td>' in html
    assert f'<a href="/members/{fresh.id}">李娜</a>' in html
    assert '<span class="status status-intake">' in html
    assert ">1/4</span>" in html
    assert ">—</td>" in html  # never contacted
    # Newest contact first, never-contacted last.
    assert html.index(f"/members/{contacted.id}") < html.index(f"/members/{fresh.id}")


def test_the_rows_follow_the_language_switch_between_requests(client, db, login_as, csrf):
    volunteer = factories.make_user("volunteer")
    factories.make_member(owner=volunteer, gender=Gender.FEMALE, last_contact_at=datetime(2026, 11, 3, 2, 0))
    db.session.commit()
    login_as(volunteer)
    english = client.get("/members/").get_data(as_text=True)
    assert "Female · " in english and " yrs</span>" in english and "Nov 3, 2026" in english
    assert '<span class="status status-active">Active</span>' in english
    client.post("/language", data={"lang": "zh_Hans_CN", "next": "/members/", "csrf_token": csrf()})
    dbstate.as_a_new_request()
    chinese = client.get("/members/").get_data(as_text=True)
    assert "女 · " in chinese and "岁</span>" in chinese and "2026年11月3日" in chinese
    assert '<span class="status status-active">活跃</span>' in chinese
    assert "Female · " not in chinese


def test_pool_members_show_pool_and_a_labelled_checkbox(client, db, login_as):
    supervisor = login_as("supervisor")
    member = factories.make_member(branch=supervisor.branch, name="王芳", owner=None)
    db.session.commit()
    html = client.get("/members/search?owner=pool").get_data(as_text=True)
    assert f'value="{member.id}" form="bulk" id="sel-{member.id}"  aria-label="Select 王芳"' in html
    assert '<td data-label="Volunteer">Pool</td>' in html


def test_the_memoized_catalogue_follows_force_locale_and_refresh(app):
    with app.test_request_context("/"):
        assert i18n.gettext("Name") == "Name"
        assert str(MemberStatus.ACTIVE.label) == "Active"
        with force_locale("zh_Hans_CN"):
            assert i18n.gettext("Name") == "姓名"
            assert str(MemberStatus.ACTIVE.label) == "活跃"
            assert app.jinja_env.from_string("{{ _('Name') }}").render() == "姓名"
        assert i18n.gettext("Name") == "Name"
        assert i18n.ngettext("%(num)d member", "%(num)d members", 2) == "2 members"
        assert app.jinja_env.from_string("{{ _('Name') }}").render() == "Name"
        assert i18n.translations() is i18n.translations()  # memoized for the rest of the request
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        assert i18n.gettext("Name") == "姓名"
    with app.app_context():  # no request: the default locale, as Flask-Babel does
        assert i18n.gettext("Name") == "Name"


def test_format_date_shows_the_local_date_in_the_requests_language(app):
    with app.test_request_context("/"):
        assert i18n.format_date(datetime(2026, 11, 3, 20, 30)) == "Nov 4, 2026"
        assert i18n.format_date(date(2026, 2, 1), "short") == "2/1/26"
        assert i18n.format_date(None) == ""
        with force_locale("zh_Hans_CN"):
            assert i18n.format_date(datetime(2026, 11, 3, 20, 30)) == "2026年11月4日"
            assert i18n.format_date(date(2026, 2, 1)) == "2026年2月1日"
        assert i18n.format_date(datetime(2026, 11, 3, 15, 59)) == "Nov 3, 2026"


class _Shapes(Form):
    plain = SelectField(choices=[SelectChoice("", "Any"), SelectChoice("a&b", 'Tom "T" <b>'),
                                 SelectChoice("c", "")], default="a&b")
    grouped = SelectField(choices=[SelectChoice("", "Any"), SelectChoice("杭州市/西湖区", "西湖区", optgroup="杭州市"),
                                   SelectChoice("北京市/海淀区", "海淀区", optgroup="北京市")],
                          default="北京市/海淀区")
    extra = SelectField(choices=[SelectChoice("x", "X", render_kw={"disabled": True}), SelectChoice("y", "Y")])
    required = SelectField(choices=[SelectChoice("1", "One")], validators=[InputRequired()])
    numbers = SelectField(coerce=int, choices=[SelectChoice(1, "One"), SelectChoice(2, "Two")], default=2)
    several = SelectMultipleField(choices=[SelectChoice("p", "P"), SelectChoice("q", "Q"), SelectChoice("r", "R")],
                                  default=["p", "r"])


@pytest.mark.parametrize("name", ["plain", "grouped", "extra", "required", "numbers", "several"])
def test_fast_select_writes_exactly_what_wtforms_writes(app, name):
    field = _Shapes()[name]
    multiple = name == "several"
    for attrs in ({}, {"class_": "wide", "aria_describedby": "x-help", "id": "other"}):
        fast = FastSelect(multiple=multiple)(field, **attrs)
        assert isinstance(fast, Markup)
        assert fast == Select(multiple=multiple)(field, **attrs)


def test_every_select_field_uses_fast_select(app):
    assert isinstance(SelectField.widget, FastSelect)
    assert isinstance(SelectMultipleField.widget, FastSelect) and SelectMultipleField.widget.multiple


def test_the_caseload_login_user_is_not_reloaded_per_row(client, db, login_as, count_queries):
    """Owners' names come from the same statement, not from a lazy load per row."""
    volunteer = factories.make_user("volunteer")
    for _ in range(5):
        factories.make_member(owner=volunteer)
    db.session.commit()
    login_as(db.session.get(User, volunteer.id))
    _html, statements = _get(client, count_queries, "/members/")
    assert not [s for s in statements if "FROM users" in s and "user_sessions" not in s]


def test_wtforms_messages_are_translated_from_a_catalogue_loaded_once(app, monkeypatch):
    from babel import support
    from flask_wtf import FlaskForm
    from wtforms.fields import IntegerField

    class AgeForm(FlaskForm):
        class Meta:
            csrf = False
        age = IntegerField()

    i18n._wtforms_catalogue.cache_clear()
    loads = []
    original = support.Translations.load.__func__
    monkeypatch.setattr(support.Translations, "load",
                        classmethod(lambda cls, *a, **k: loads.append(k.get("domain")) or original(cls, *a, **k)))
    messages = []
    for lang in ("zh_Hans_CN", "zh_Hans_CN", "en"):
        with app.test_request_context("/", method="POST", data={"age": "abc"}), force_locale(lang):
            form = AgeForm()
            form.validate()
            messages.append(form.age.errors[0])
    assert messages[0] == messages[1] != messages[2] == "Not a valid integer value."
    assert loads.count("wtforms") == 2  # one load per locale, not one per request
