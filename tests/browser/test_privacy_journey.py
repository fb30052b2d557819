"""Issue 8 (privacy) journey in the system Chromium: a volunteer uploads a member's photo on the case
file, records the member's withdrawal of sharing consent, and exports the member's data after
re-entering their password."""

import io
import json
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from crm.extensions import db as _db
from crm.members.models import Gender, Member
from crm.privacy.models import MemberConsent
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_member, make_user

pytestmark = pytest.mark.browser


def _photo(tmp_path):
    exif = Image.Exif()
    exif[0x0110] = "PhoneModelX"
    path = tmp_path / "selfie.jpg"
    out = io.BytesIO()
    Image.new("RGB", (300, 400), (220, 140, 120)).save(out, format="JPEG", exif=exif)
    path.write_bytes(out.getvalue())
    return path


def test_photo_consent_withdrawal_and_export(app, db, fresh_context, shot, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    volunteer = make_user("volunteer", display_name="王芳")
    member = make_member(owner=volunteer, name="林照片", gender=Gender.FEMALE, self_intro="喜欢摄影。")
    db.session.commit()
    page = fresh_context().new_page()
    log_in(page, volunteer)

    # 1. Upload a photo on the case file.
    page.goto(f"/members/{member.id}")
    panel = page.locator("#privacy")
    panel.locator("input[type=file][name=photo]").set_input_files(str(_photo(tmp_path)))
    panel.locator("form.photo-upload button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/members/{member.id}(#privacy)?$"))
    photo = page.locator("#privacy img.member-photo")
    expect(photo).to_be_visible()
    # visible comes with the width attribute, before the image has arrived; decode() waits for it
    # and rejects if it cannot load, so a broken photo route still fails here
    assert photo.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    stored = [p for p in (tmp_path / "photos").iterdir() if p.is_file()]
    assert len(stored) == 1 and b"PhoneModelX" not in stored[0].read_bytes()
    shot(page, "photo-uploaded")

    # 2. Record that the member withdrew consent to sharing with matched members.
    page.locator(f"#privacy a[href='/privacy/members/{member.id}/consents']").click()
    expect(page).to_have_url(re.compile(rf"/privacy/members/{member.id}/consents$"))
    page.locator("select[name=purpose]").select_option("sharing")
    page.locator("select[name=channel]").select_option("phone")
    page.locator("input[name=given][value=withdrawn]").check()
    page.locator("input[name=comment]").fill("电话里说暂停介绍")
    page.locator("form[action$='/consents'] button[type=submit]").click()
    expect(page.locator(".timeline")).to_contain_text("电话里说暂停介绍")
    shot(page, "consent-withdrawn")
    _db.session.rollback()  # a fresh transaction sees what the live server committed
    assert _db.session.get(Member, member.id).sharing_consent is False
    assert _db.session.query(MemberConsent).filter_by(member_id=member.id, given=False).count() == 1

    # 3. Export: the password is asked for first, then the form, then the download.
    page.goto(f"/members/{member.id}")
    page.locator(f"#privacy a[href='/privacy/members/{member.id}/export']").click()
    expect(page).to_have_url(re.compile(r"/confirm-password"))
    shot(page, "confirm-password")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action*='confirm-password'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"^[^?]*/privacy/members/{member.id}/export$"))
    page.locator("input[name=fmt][value=json]").check()
    page.locator("textarea[name=reason]").fill("会员本人要求一份资料")
    shot(page, "export-form")
    with page.expect_download() as download_info:
        page.locator("form[action$='/export'] button[type=submit]").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"member-{member.id}-")
    data = json.loads(download.path().read_text(encoding="utf-8"))
    assert data["profile"]["name"] == "林照片" and data["profile"]["has_photo"] is True
    assert data["consents"][-1]["purpose"] == "sharing" and data["consents"][-1]["given"] is False
