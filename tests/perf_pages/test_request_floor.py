"""What every request and the member lists pay (issue 10, perf-request): the same HTML written more cheaply.

The caseload's rows are written by crm.members.listing.rows_html in one pass instead of a Jinja macro per row;
dates are formatted with the time zone and locale looked up once per page (crm.i18n.date_formatter). These tests
compare each with what it replaces, character for character.
"""

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale, format_date

from crm import i18n
from crm.members.listing import ListRow, rows_html

ROWS = [
    ListRow(5, "/members/5", "<b>王&芳</b>", "Male", "34 yrs", "active", "Active", 3, "西湖区", "Pool", "",
            "Select <b>王&芳</b>"),
    ListRow(17, "/members/17", "O'Brien \"Jo\"", "女", "29岁", "intake", "登记中", 0, "{district}", "林{红}娘",
            "2026年11月3日", "选择 O'Brien"),
    ListRow(2**31 - 1, "/members/2147483647", "张伟", "Female", "70 yrs", "closed", "Closed", 4, "", "志愿者",
            "Nov 4, 2026", ""),
]


# The macro the list pages used before rows_html: kept here as the reference that rows_html must write.
REFERENCE = (Path(__file__).with_name("member_row_reference.html")).read_text(encoding="utf-8")


def _macro(app, rows, selectable, selected):
    macros = app.jinja_env.from_string(REFERENCE).make_module()  # in the request, as `import ... with context` was
    return "".join(macros.member_row(row, selectable=selectable, selected=selected) for row in rows)


@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
@pytest.mark.parametrize("selectable, selected", [(False, ()), (True, ()), (True, [5, 2**31 - 1]), (True, [17])])
def test_rows_html_writes_exactly_what_the_member_row_macro_writes(app, lang, selectable, selected):
    with app.test_request_context("/members/"), force_locale(lang):
        expected = _macro(app, ROWS, selectable, selected)
        written = rows_html(ROWS, selectable=selectable, selected=selected)
    assert str(written) == expected
    assert "&lt;b&gt;王&amp;芳&lt;/b&gt;" in written and "<b>" not in written  # names are escaped
    assert written.count("checked") == len(selected)


def test_rows_html_of_no_rows_is_empty(app):
    with app.test_request_context("/members/"):
        assert rows_html([], selectable=True) == ""


def test_the_page_level_date_formatter_agrees_with_flask_babel(app):
    start = datetime(2026, 1, 1, 0, 0)
    values = [start + timedelta(hours=7 * i, minutes=13 * i) for i in range(400)]
    values += [date(2026, 2, 28), datetime(2026, 11, 3, 15, 59, 59), datetime(2026, 11, 3, 16, 0), None]
    for lang in ("en", "zh_Hans_CN"):
        with app.test_request_context("/"), force_locale(lang):
            formatted = i18n.date_formatter()
            for value in values:
                expected = format_date(value) if value else ""
                assert formatted(value) == expected == i18n.format_date(value), value
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        assert i18n.date_formatter()(datetime(2026, 11, 3, 16, 0)) == "2026年11月4日"  # UTC+8: the next day


def test_a_signed_in_page_checks_its_session_user_and_branch_in_one_statement(client, db, login_as, count_queries):
    from tests import dbstate
    user = login_as("volunteer")
    dbstate.as_a_new_request()
    with count_queries() as statements:
        response = client.get("/account/password")
    assert response.status_code == 200
    assert len(statements) == 1, "\n\n".join(statements)
    assert "FROM user_sessions" in statements[0] and "branches" in statements[0]
    assert user.display_name in response.get_data(as_text=True)


def test_the_prebuilt_sign_in_statement_still_refuses_another_users_token(client, db, login_as):
    from flask import session as flask_session

    from crm.auth import sessions
    from tests import factories
    first = login_as("volunteer")
    other = factories.make_user("volunteer")
    db.session.commit()
    with client.session_transaction() as s:
        user_id, token = s["_user_id"].split(":")
        assert int(user_id) == first.id
        s["_user_id"] = f"{other.id}:{token}"  # the token of one user's session with another user's id
    assert client.get("/account/password").status_code in (302, 401)
    with client.application.test_request_context():
        assert sessions.load(f"{other.id}:{token}") is None
        assert sessions.load(f"{first.id}:{token}").id == first.id
        assert "_user_id" not in flask_session


def test_board_cards_move_in_place_on_the_board_and_by_plain_post_on_show_more(client, db, login_as):
    from crm.members.models import Gender
    from crm.pairings import services
    from crm.pairings.models import ConsentAnswer, ConsentChannel
    from tests import factories
    vol = login_as("volunteer")
    man = factories.make_member(owner=vol, gender=Gender.MALE)
    for _ in range(21):  # one more than the board's first page of a column
        pairing = services.propose_pairing(man, factories.make_member(owner=vol, gender=Gender.FEMALE), vol)
        for member in pairing.members:  # both say yes: introduced, and the card offers the next stages
            services.record_consent(pairing, member, ConsentAnswer.YES, ConsentChannel.PHONE, {}, vol)
    db.session.commit()
    board = client.get("/pairings/board").get_data(as_text=True)
    assert board.count('class="inline card-move"') == 20
    assert board.count('hx-post="/pairings/') == 20 and 'hx-target="#board"' in board
    more = client.get("/pairings/board/more?stage=introduced&start=20").get_data(as_text=True)
    assert more.count('class="inline card-move"') == 1
    assert 'hx-post="/pairings/' not in more  # the show-more page posts and comes back to the board


@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
def test_the_member_filter_choices_made_once_per_language_render_as_before(app, lang):
    from werkzeug.datastructures import MultiDict
    from wtforms.fields import SelectField

    from crm.members import forms, vocab
    from crm.members.models import Gender, MemberStatus

    class Before(forms.SearchForm):  # the choices as they were: built, lazy labels and all, on every use
        status = SelectField(forms._l("Status"), default="",
                             choices=lambda: forms._optional_enum(MemberStatus, forms._l("Any status")))
        gender = SelectField(forms._l("Gender"), default="",
                             choices=lambda: forms._optional_enum(Gender, forms._l("Any gender")))
        district = SelectField(forms._l("District"), default="",
                               choices=lambda: vocab.area_choices(forms._l("Any district")))

    for args in ({}, {"status": "active", "gender": "female", "district": vocab.area_choices()[3].value},
                 {"status": "nonsense", "district": "<b>"}):
        with app.test_request_context("/members/"), force_locale(lang):
            now, before = forms.SearchForm(MultiDict(args)), Before(MultiDict(args))
            assert now.validate() == before.validate()
            for name in ("status", "gender", "district"):
                assert str(now[name]()) == str(before[name]()), name
                assert now[name].errors == before[name].errors
    with app.test_request_context("/members/"), force_locale(lang):
        html = str(forms.SearchForm(MultiDict())["gender"]())
    assert ("女" in html) == lang.startswith("zh") and ("Female" in html) == (lang == "en")


def test_volunteer_rows_are_the_assignable_volunteers_in_the_same_order(app, db):
    from crm.members import queries
    from crm.members.team_views import _volunteer_choices, volunteer_rows
    from tests import factories
    branch = factories.make_branch()
    for name in ("王五", "Anna", "张三", "李四"):
        factories.make_user("volunteer", branch=branch, display_name=name)
    factories.make_user("volunteer", display_name="Elsewhere")  # another branch
    factories.make_user("counsellor", branch=branch)  # not a volunteer
    supervisor = factories.make_user("supervisor", branch=branch)
    admin = factories.make_user("admin")
    db.session.commit()
    with app.test_request_context("/"):
        for user in (supervisor, admin):
            entities = queries.assignable_volunteers(user)
            rows = volunteer_rows(user)
            assert [(r.id, r.display_name, r.branch_name) for r in rows] == [
                (u.id, u.display_name, u.branch.name) for u in entities]
            assert [(c.value, c.label) for c in _volunteer_choices(rows)][1:] == [
                (str(u.id), f"{u.display_name} ({u.branch.name})") for u in entities]
        assert len(volunteer_rows(supervisor)) == 4 and len(volunteer_rows(admin)) == 5


@pytest.mark.parametrize("in_place", [True, False])
@pytest.mark.parametrize("more_args", [{}, {"source": "event", "min_days": "3", "volunteer": "<7&>"}])
def test_board_cards_are_written_exactly_as_the_card_macro_writes_them(app, in_place, more_args):
    from types import SimpleNamespace as NS

    from crm.pairings.board_html import board_cards
    from crm.pairings.models import ConsentAnswer, Stage
    from crm.pairings.views import _card_kit

    def side(label, answer, overdue):
        return NS(label=label, consent=NS(answer=answer), overdue=overdue)

    items = [
        (NS(id=3, reference="Q-0003", version=2), [side("<b>王</b> · 31 · 西湖区", ConsentAnswer.YES, False),
                                                  side("Female · 29 · \"滨江\"", ConsentAnswer.PENDING, True)],
         [Stage.FIRST_MEETING, Stage.DATING], "4 days in stage"),
        (NS(id=2**31 - 1, reference="Q-&", version=1), [side("李娜", ConsentAnswer.NO, False)], [], "0 days <in>"),
    ]
    template = app.jinja_env.from_string(
        '{% from "pairings/_board.html" import card with context %}'
        "{% for pairing, sides, forward, days in items %}{{ card(pairing, sides, forward, days, stage, kit) }}\n"
        "    {% endfor %}")
    for lang in ("en", "zh_Hans_CN"):
        with app.test_request_context("/pairings/board"), force_locale(lang):
            kit = _card_kit()
            kit["in_place"] = in_place
            for stage in (Stage.AWAITING_CONSENT, Stage.INTRODUCED):
                expected = template.render(items=items, stage=stage, kit=kit, more_args=more_args)
                written = board_cards(items, stage, kit, more_args)
                assert str(written) == expected, (lang, stage)
                assert "&lt;b&gt;王&lt;/b&gt;" in written and written.count("<li class=\"card\"") == 2
