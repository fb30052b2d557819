"""A member signs herself up for a mixer on her phone (no login), from the link a volunteer copied
off the event page; a wrong last 4 gets the neutral answer; then she cancels."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crm.events.models import EventRegistration, RegistrationChannel, RegistrationStatus
from crm.members.models import Gender
from tests.browser.conftest import log_in
from tests.events.helpers import make_event
from tests.factories import make_member, make_user

pytestmark = pytest.mark.browser


def test_member_signs_up_on_her_phone_and_cancels(db, fresh_context, shot):
    volunteer = make_user("volunteer")
    event = make_event(volunteer.branch, title="冬季滑雪联谊", description="大巴集合：地铁1号线龙翔桥站 A 口")
    ann = make_member(owner=volunteer, name="李安", gender=Gender.FEMALE, phone="13900000011")
    db.session.commit()

    desk = fresh_context().new_page()
    log_in(desk, volunteer)
    desk.goto(f"/events/{event.id}")
    link = desk.locator("#public-url").input_value()
    assert link.endswith(f"/events/join/{event.public_token}")
    shot(desk, "public-link")

    phone = fresh_context(phone=True).new_page()
    phone.goto(link)
    expect(phone.locator("h1")).to_contain_text("冬季滑雪联谊")
    phone.locator("#phone").fill(ann.phone)
    phone.locator("#id_last4").fill("999X")
    phone.locator("form button.primary").click()
    expect(phone.locator("#join-refused")).to_contain_text("could not find")
    phone.locator("#id_last4").fill(ann.id_last4)
    shot(phone, "form")
    phone.locator("form button.primary").click()
    expect(phone.locator("#join-result")).to_contain_text("You are signed up")
    shot(phone, "signed-up")
    db.session.expire_all()
    db.session.rollback()
    reg = db.session.scalars(select(EventRegistration)).one()
    assert reg.channel is RegistrationChannel.SELF and reg.status is RegistrationStatus.REGISTERED

    phone.goto(link)
    phone.locator("details summary").click()
    phone.locator("#cancel-phone").fill(ann.phone)
    phone.locator("#cancel-id_last4").fill(ann.id_last4)
    phone.locator("details button[type=submit]").click()
    expect(phone.locator("#join-result")).to_contain_text("cancelled")
    shot(phone, "cancelled")
