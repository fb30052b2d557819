"""A mixer event in the system Chromium on a phone-sized screen: a supervisor creates and opens
it, a volunteer signs members up, checks them in at the door, the event is marked held, the
volunteer enters the choice cards and prints the mutual pair's introduction cards."""

from datetime import timedelta
from pathlib import Path

import pytest
from babel.dates import get_timezone
from playwright.sync_api import expect
from sqlalchemy import select

from crm.clock import now_utc
from crm.events.models import Event
from crm.members.models import Gender
from tests.browser.conftest import log_in
from tests.factories import make_member, make_user

pytestmark = pytest.mark.browser


def _local(dt):
    return dt.replace(tzinfo=get_timezone("UTC")).astimezone(get_timezone("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")


def test_event_from_creation_to_door_to_mutual_choices_to_printed_cards(db, fresh_context, shot):
    supervisor = make_user("supervisor")
    volunteer = make_user("volunteer", branch=supervisor.branch)
    ann = make_member(owner=volunteer, name="李安", gender=Gender.FEMALE)
    make_member(owner=volunteer, name="王蓓", gender=Gender.FEMALE)
    carl = make_member(owner=volunteer, name="赵凯", gender=Gender.MALE)
    db.session.commit()

    boss = fresh_context(phone=True).new_page()
    log_in(boss, supervisor)
    boss.goto("/events/")
    boss.locator("a.button[href='/events/new']").click()
    boss.locator("#title").fill("七夕城市漫步联谊")
    boss.locator("#starts_at").fill(_local(now_utc() + timedelta(hours=1)))
    boss.locator("#ends_at").fill(_local(now_utc() + timedelta(hours=4)))
    boss.locator("#place").fill("西湖文化广场")
    boss.locator("#capacity").fill("40")
    boss.locator("#max_gender_percent").fill("60")
    shot(boss, "new-event")
    boss.locator("form.event-form button[type=submit]").click()
    expect(boss.locator("h1")).to_contain_text("七夕城市漫步联谊")
    event_url = boss.url
    boss.locator("button[name=status][value=open]").click()
    expect(boss.locator("h1 .badge")).to_have_class("badge event-open")
    shot(boss, "opened")

    phone = fresh_context(phone=True).new_page()
    log_in(phone, volunteer)
    phone.goto(event_url)
    for query, name in (("lian", "李安"), ("wangbei", "王蓓"), ("zk", "赵凯")):
        phone.locator("#q").fill(query)
        phone.locator("form[role=search] button").click()
        row = phone.locator("ul.event-candidates li", has_text=name)
        row.locator("button[type=submit]").click()
        expect(phone.locator(".flashes")).to_contain_text(name)
    shot(phone, "registered")

    # The day comes: the event began two hours ago (sign-up closed at its start; the door is open).
    db.session.rollback()  # a fresh snapshot: the server created the event
    event = db.session.scalars(select(Event)).one()
    event.starts_at, event.ends_at = now_utc() - timedelta(hours=2), now_utc() + timedelta(hours=1)
    db.session.commit()
    phone.locator("a[href$='/door']").click()
    for query in ("zk", "1"):  # pinyin initials, then a badge number
        phone.locator("#door-q").fill(query)  # htmx searches as the volunteer types...
        phone.locator("#door-q").press("Enter")  # ...and Enter searches at once
        tap = phone.locator("#door-results button.door-tap").first
        expect(tap).to_be_visible(timeout=10_000)
        shot(phone, f"door-{query}")
        tap.click()
        expect(phone.locator("#door-results")).to_contain_text("✓")
    shot(phone, "checked-in")

    boss.reload()
    boss.locator("button[name=status][value=held]").click()
    expect(boss.locator("h1 .badge")).to_have_class("badge event-held")

    phone.goto(event_url)
    for chooser, chosen_number in ((ann, "3"), (carl, "1")):
        phone.locator("tr", has_text=chooser.name).locator("a.button").click()
        phone.locator("#badges").fill(chosen_number)
        shot(phone, f"choices-{chooser.id}")
        phone.locator("form.panel button[type=submit]").click()
        expect(phone.locator(".flashes")).to_be_visible()
    expect(phone.locator(".flashes")).to_contain_text("QQ-")
    shot(phone, "mutual")

    phone.goto(event_url + "/report")
    expect(phone.locator("#mutual-pairs")).to_have_text("1")
    shot(phone, "report")
    with phone.expect_download() as download:
        phone.locator("form[action$='/cards'] button").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    from io import BytesIO

    from pypdf import PdfReader
    assert len(PdfReader(BytesIO(data)).pages) == 2  # one card for each side of the pair
