"""Issue 2 journeys in the system Chromium: notes added in place, reassignment, the pool, language, live search.

Each journey saves a screenshot of every step under test-artifacts/screenshots/ for a human to look at.
"""

import re

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from sqlalchemy import func, select

from crm.members.models import Assignment, Member, Note
from tests.browser.conftest import ROOT, log_in
from tests.factories import make_branch, make_member, make_note, make_user

pytestmark = pytest.mark.browser

MARKER = "window.__marker"
NOTE_BOX = "#notes form.note-form textarea[name=body]"


def set_marker(page):
    """Mark the window: a full page load would wipe it, an htmx swap keeps it."""
    page.evaluate(f"{MARKER} = 1")


def assert_no_reload(page):
    assert page.evaluate(f"{MARKER}") == 1, "the page was reloaded"


def note_count(db, member) -> int:
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    return db.session.scalar(select(func.count()).select_from(Note).where(Note.member_id == member.id))


def owner_of(db, member):
    db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    return db.session.scalar(select(Member.owner_id).where(Member.id == member.id))


def team(db):
    """A branch with a supervisor and two volunteers (the names are the ones shown in the UI)."""
    branch = make_branch(name="西湖区工会服务站")
    return (make_user("supervisor", branch=branch, display_name="周主任"),
            make_user("volunteer", branch=branch, display_name="王芳"),
            make_user("volunteer", branch=branch, display_name="陈刚"))


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_volunteer_adds_a_note_without_a_reload(db, fresh_context, shot, phone):
    volunteer = make_user("volunteer", display_name="王芳")
    member = make_member(owner=volunteer, name="李晓梅")
    make_note(member, volunteer, body="第一次电话，了解基本情况。")
    db.session.commit()
    page = fresh_context(phone=phone).new_page()

    log_in(page, volunteer)
    expect(page.locator("#results")).to_contain_text("李晓梅")
    shot(page, "caseload")

    page.locator("#results").get_by_role("link", name="李晓梅").click()
    expect(page).to_have_url(re.compile(rf"/members/{member.id}$"))
    expect(page.locator("h1")).to_contain_text("李晓梅")
    shot(page, "case-file")

    set_marker(page)
    text = "周六在西湖边见面，她对对方印象不错，想再约一次。"
    page.locator(NOTE_BOX).fill(text)
    page.locator("#notes form.note-form button[type=submit]").click()
    expect(page.locator("#notes .timeline")).to_contain_text(text)
    expect(page.locator(NOTE_BOX)).to_have_value("")  # a fresh form for the next note
    assert_no_reload(page)
    assert note_count(db, member) == 2
    shot(page, "note-added")

    page.locator(NOTE_BOX).fill("   ")
    page.locator("#notes form.note-form button[type=submit]").click()
    error = page.locator("#notes .field.has-error .error")
    expect(error).to_be_visible()
    expect(page.locator(NOTE_BOX)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#notes .timeline")).to_contain_text(text)  # the timeline is still there
    assert_no_reload(page)
    assert note_count(db, member) == 2
    shot(page, "empty-note-refused")


def test_supervisor_reassigns_a_member_and_only_the_new_volunteer_has_it(db, fresh_context, shot):
    supervisor, old, new = team(db)
    member = make_member(owner=old, name="赵敏")
    db.session.commit()

    old_page = fresh_context().new_page()
    log_in(old_page, old)
    expect(old_page.locator("#results")).to_contain_text("赵敏")
    shot(old_page, "old-volunteer-before")

    page = fresh_context().new_page()
    log_in(page, supervisor)
    page.goto(f"/members/{member.id}")
    page.locator(f"a[href='/members/{member.id}/reassign']").click()
    form = page.locator(f"form[action='/members/{member.id}/reassign']")
    form.locator("select[name=to_user_id]").select_option(str(new.id))
    form.locator("input[name=reason]").fill("王芳休产假，由陈刚接手。")
    shot(page, "supervisor-reassign-form")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".page-head")).to_contain_text("陈刚")
    expect(page.locator("#h-history").locator("..")).to_contain_text("王芳休产假，由陈刚接手。")
    shot(page, "supervisor-after-reassign")
    assert owner_of(db, member) == new.id
    assert db.session.scalar(select(Assignment.reason).where(Assignment.member_id == member.id)) \
        == "王芳休产假，由陈刚接手。"

    new_page = fresh_context().new_page()
    log_in(new_page, new)
    expect(new_page.locator("#results")).to_contain_text("赵敏")
    shot(new_page, "new-volunteer-caseload")
    new_page.locator("#results").get_by_role("link", name="赵敏").click()
    expect(new_page.locator("h1")).to_contain_text("赵敏")
    expect(new_page.locator("#notes form.note-form")).to_be_visible()
    shot(new_page, "new-volunteer-case-file")

    # The old volunteer's page is stale: following its link now answers 404, and the page says so.
    old_page.locator("#results").get_by_role("link", name="赵敏").click()
    expect(old_page).to_have_url(re.compile(rf"/members/{member.id}$"))
    expect(old_page.locator("#results")).to_have_count(0)  # the error page, not the stale list
    expect(old_page.locator("main")).not_to_contain_text("赵敏")
    shot(old_page, "old-volunteer-stale-link")

    old_page.goto("/members/")
    expect(old_page.locator("#results")).not_to_contain_text("赵敏")
    shot(old_page, "old-volunteer-caseload-after")
    response = old_page.goto(f"/members/{member.id}")
    assert response.status == 404
    expect(old_page.locator("body")).not_to_contain_text("赵敏")
    shot(old_page, "old-volunteer-404")


def test_supervisor_bulk_reassigns_pool_members(db, fresh_context, shot):
    supervisor, volunteer, _other = team(db)
    first = make_member(branch=supervisor.branch, owner=None, name="孙丽")
    second = make_member(branch=supervisor.branch, owner=None, name="钱伟")
    stays = make_member(branch=supervisor.branch, owner=None, name="吴静")
    db.session.commit()
    page = fresh_context().new_page()
    log_in(page, supervisor)

    page.goto("/members/search?owner=pool")
    expect(page.locator("#results")).to_contain_text("孙丽")
    expect(page.locator("#results")).to_contain_text("吴静")
    page.locator(f"#sel-{first.id}").check()
    page.locator(f"#sel-{second.id}").check()
    bulk = page.locator("form#bulk")
    bulk.locator("select[name=to_user_id]").select_option(str(volunteer.id))
    bulk.locator("input[name=reason]").fill("新会员分配给王芳跟进。")
    shot(page, "pool-selected")
    bulk.locator("button[type=submit]").click()
    # It asks first, naming how many and to whom; nothing has moved yet.
    expect(page.locator("h1")).to_contain_text("2")
    expect(page.locator("form.confirm-step")).to_contain_text(volunteer.display_name)
    assert [owner_of(db, m) for m in (first, second)] == [None, None]
    shot(page, "pool-confirm")
    page.locator("form.confirm-step button[type=submit]").click()

    expect(page.locator(".flash-success")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/members/search\?owner=pool"))
    expect(page.locator("#results")).not_to_contain_text("孙丽")
    expect(page.locator("#results")).not_to_contain_text("钱伟")
    expect(page.locator("#results")).to_contain_text("吴静")
    shot(page, "pool-after")
    assert [owner_of(db, m) for m in (first, second, stays)] == [volunteer.id, volunteer.id, None]


def test_bulk_reassign_without_a_selection_explains_and_keeps_the_page(db, fresh_context, shot):
    supervisor, volunteer, _other = team(db)
    member = make_member(branch=supervisor.branch, owner=None, name="孙丽")
    db.session.commit()
    page = fresh_context().new_page()
    log_in(page, supervisor)

    page.goto("/members/search?owner=pool")
    bulk = page.locator("form#bulk")
    bulk.locator("select[name=to_user_id]").select_option(str(volunteer.id))
    bulk.locator("input[name=reason]").fill("分配")
    bulk.locator("button[type=submit]").click()
    expect(page.locator("form#bulk .error")).to_be_visible()
    expect(page.locator("form#bulk input[name=reason]")).to_have_value("分配")
    expect(page.locator("#results")).to_contain_text("孙丽")
    shot(page, "nothing-selected")
    assert owner_of(db, member) is None


def test_language_switch_turns_the_ui_to_english_and_back(app, db, fresh_context, shot, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "zh_Hans_CN")  # production's default (tests use en)
    volunteer = make_user("volunteer")
    db.session.commit()
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        chinese_label = gettext("My cases")
    page = fresh_context().new_page()
    nav = page.get_by_role("navigation")

    log_in(page, volunteer)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(nav.get_by_role("link", name=chinese_label, exact=True)).to_be_visible()
    shot(page, "chinese")

    if (ROOT / "crm" / "translations").is_dir():
        assert chinese_label != "My cases"
    page.locator(".account button[lang=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(nav.get_by_role("link", name="My cases", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/members/"))  # back where the user was
    shot(page, "english")

    page.locator(".account button[lang=zh-CN]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(nav.get_by_role("link", name=chinese_label, exact=True)).to_be_visible()
    shot(page, "chinese-again")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_live_search_updates_results_without_a_reload(db, fresh_context, shot, phone):
    volunteer = make_user("volunteer")
    for name in ("王悦", "李娜", "张伟", "王小明"):
        make_member(owner=volunteer, name=name)
    db.session.commit()
    page = fresh_context(phone=phone).new_page()
    log_in(page, volunteer)

    page.goto("/members/search")
    results = page.locator("#results")
    expect(results).to_contain_text("李娜")
    set_marker(page)

    page.locator("#q").press_sequentially("wang", delay=30)
    expect(results).not_to_contain_text("李娜")
    expect(results).to_contain_text("王悦")
    expect(results).to_contain_text("王小明")
    expect(page).to_have_url(re.compile(r"q=wang"))  # shareable, and Back restores it
    assert_no_reload(page)
    shot(page, "pinyin")

    page.locator("#q").fill("李")
    expect(results).to_contain_text("李娜")
    expect(results).not_to_contain_text("王悦")
    assert_no_reload(page)
    shot(page, "hanzi")

    page.locator("#q").fill("zzzz")
    expect(results.locator(".empty")).to_be_visible()
    assert_no_reload(page)
    shot(page, "no-match")


def test_a_note_on_a_case_taken_away_meanwhile_says_why_it_failed(db, fresh_context, shot):
    _supervisor, old, new = team(db)
    member = make_member(owner=old, name="赵敏")
    db.session.commit()
    page = fresh_context().new_page()
    log_in(page, old)
    page.goto(f"/members/{member.id}")
    set_marker(page)

    member.owner_id = new.id  # reassigned while the old volunteer still has the case file open
    db.session.commit()
    page.locator(NOTE_BOX).fill("这条记录不应保存。")
    page.locator("#notes form.note-form button[type=submit]").click()
    expect(page.locator("#flashes .flash-error")).to_be_visible()
    expect(page.locator("#flashes .flash-error")).not_to_contain_text("requested URL")  # ours, not werkzeug's
    expect(page.locator(NOTE_BOX)).to_have_value("这条记录不应保存。")  # what was typed is still there
    assert_no_reload(page)
    assert note_count(db, member) == 0
    shot(page, "refused-with-a-message")
