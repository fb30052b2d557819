"""Photos: attacks refused with nothing stored, metadata stripped, served only with permission
and (for the other side of an introduction) with photo consent."""

import io

import pytest
from PIL import Image

from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.members.models import Gender, Member
from crm.pairings.models import ConsentAnswer, Pairing, PairingConsent, Stage
from crm.privacy import services
from crm.privacy.texts import Channel, Purpose
from tests.factories import make_member, make_user


def jpeg(size=(64, 48), exif=None, color=(200, 60, 60)) -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", size, color)
    kwargs = {"exif": exif} if exif is not None else {}
    img.save(out, format="JPEG", **kwargs)
    return out.getvalue()


def gps_exif():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"          # Make
    exif[0x0110] = "SecretPhone 9"       # Model
    gps = {1: "N", 2: (30.0, 15.0, 12.5), 3: "E", 4: (120.0, 9.0, 30.0)}
    exif[0x8825] = gps                   # GPSInfo
    return exif


def upload(client, csrf, member, data: bytes, filename="me.jpg", content_type="image/jpeg"):
    return client.post(f"/privacy/members/{member.id}/photo/upload",
                       data={"csrf_token": csrf(), "photo": (io.BytesIO(data), filename, content_type)},
                       content_type="multipart/form-data")


@pytest.fixture
def own(login_as):
    vol = login_as("volunteer")
    member = make_member(owner=vol)
    db.session.commit()
    return vol, member


def stored(folder):
    return [p for p in folder.glob("*")] if folder.exists() else []


def test_a_photo_is_stored_re_encoded_without_exif_and_served_privately(client, csrf, own, photo_dir):
    vol, member = own
    original = jpeg(exif=gps_exif())
    assert b"SecretPhone" in original
    response = upload(client, csrf, member, original, filename="holiday.png", content_type="image/png")
    assert response.status_code == 302 and response.headers["Location"].endswith("#privacy")
    files = stored(photo_dir)
    assert len(files) == 1 and files[0].name != "holiday.png" and files[0].suffix == ".jpg"
    content = files[0].read_bytes()
    assert b"SecretPhone" not in content and b"PhoneMaker" not in content and b"Exif" not in content
    with Image.open(io.BytesIO(content)) as img:
        assert img.format == "JPEG" and not img.getexif() and img.size == (64, 48)
    db.session.expire_all()
    assert db.session.get(Member, member.id).photo_path == files[0].name
    served = client.get(f"/privacy/members/{member.id}/photo")
    assert served.status_code == 200 and served.data == content
    assert served.mimetype == "image/jpeg"
    assert "no-store" in served.headers["Cache-Control"]  # crm.security may tighten "private, no-store" to "no-store"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert db.session.query(AuditEntry).filter_by(action="member.photo_upload").count() == 1
    case_file = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert f"/privacy/members/{member.id}/photo" in case_file
    assert "photos/" not in case_file and files[0].name not in case_file


def test_an_oversized_photo_is_shrunk(client, csrf, own, photo_dir, app, monkeypatch):
    vol, member = own
    monkeypatch.setitem(app.config, "PHOTO_MAX_SIDE", 100)
    assert upload(client, csrf, member, jpeg(size=(400, 200))).status_code == 302
    with Image.open(stored(photo_dir)[0]) as img:
        assert img.size == (100, 50)


def _png_bomb(side=20000) -> bytes:
    """A tiny file that decodes to side x side pixels (hundreds of MB)."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, format="PNG", optimize=True)
    return out.getvalue()


ATTACKS = {
    "html named .jpg": (b"<!doctype html><html><script>alert(document.cookie)</script></html>", "me.jpg"),
    "svg with script": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "me.jpg"),
    "polyglot jpeg+html": (None, "me.jpg"),
    "truncated jpeg": (None, "me.jpg"),
    "empty": (b"", "me.jpg"),
    "gif": (None, "me.gif"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_upload_attacks_are_refused_with_nothing_stored(client, csrf, own, photo_dir, attack):
    vol, member = own
    data, name = ATTACKS[attack]
    if attack == "polyglot jpeg+html":
        data = jpeg() + b"<html><body><script>alert(1)</script></body></html>"
    elif attack == "truncated jpeg":
        data = jpeg(size=(300, 300))[:400]
    elif attack == "gif":
        out = io.BytesIO()
        Image.new("RGB", (10, 10)).save(out, format="GIF")
        data = out.getvalue()
    before = db.session.query(AuditEntry).count()
    response = upload(client, csrf, member, data, filename=name)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="error"' in page
    assert "<script>alert" not in page
    assert stored(photo_dir) == [] or all(p.is_dir() for p in stored(photo_dir))
    db.session.expire_all()
    assert db.session.get(Member, member.id).photo_path is None
    assert db.session.query(AuditEntry).count() == before


def test_a_file_over_the_size_cap_is_refused(client, csrf, own, photo_dir, app, monkeypatch):
    vol, member = own
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 2000)
    response = upload(client, csrf, member, jpeg(size=(600, 600)) + b"\0" * 3000)
    assert response.status_code == 422 and "too large" in response.get_data(as_text=True)
    assert not any(p.is_file() for p in stored(photo_dir))


def test_a_decompression_bomb_is_refused(client, csrf, own, photo_dir):
    vol, member = own
    bomb = _png_bomb()
    assert len(bomb) < 200_000
    response = upload(client, csrf, member, bomb, filename="bomb.png", content_type="image/png")
    assert response.status_code == 422 and "too many pixels" in response.get_data(as_text=True)
    assert not any(p.is_file() for p in stored(photo_dir))


def test_a_replaced_or_deleted_photo_leaves_no_file(client, csrf, own, photo_dir):
    vol, member = own
    upload(client, csrf, member, jpeg())
    upload(client, csrf, member, jpeg(color=(1, 2, 3)))
    files = [p for p in stored(photo_dir) if p.is_file()]
    assert len(files) == 1
    response = client.post(f"/privacy/members/{member.id}/photo/delete", data={"csrf_token": csrf()})
    assert response.status_code == 200 and any(p.is_file() for p in stored(photo_dir))  # asked first
    response = client.post(f"/privacy/members/{member.id}/photo/delete", data={"csrf_token": csrf(), "confirmed": "1"})
    assert response.status_code == 302
    assert not any(p.is_file() for p in stored(photo_dir))
    db.session.expire_all()
    assert db.session.get(Member, member.id).photo_path is None
    assert client.get(f"/privacy/members/{member.id}/photo").status_code == 404


def test_the_photo_is_not_served_to_staff_who_may_not_see_the_member(client, csrf, login_as, photo_dir):
    owner = make_user("volunteer")
    member = make_member(owner=owner)
    db.session.commit()
    login_as(owner)
    upload(client, csrf, member, jpeg())
    client.post("/logout", data={"csrf_token": csrf()})
    login_as("volunteer")  # another volunteer, other branch
    assert client.get(f"/privacy/members/{member.id}/photo").status_code == 404
    assert client.post(f"/privacy/members/{member.id}/photo/delete", data={"csrf_token": csrf()}).status_code == 404
    assert len([p for p in stored(photo_dir) if p.is_file()]) == 1


def _introduced(vol_a, vol_b, share_photo=True):
    a = make_member(owner=vol_a, gender=Gender.MALE)
    b = make_member(owner=vol_b, gender=Gender.FEMALE)
    low, high = sorted((a.id, b.id))
    pairing = Pairing(member_low_id=low, member_high_id=high, stage=Stage.INTRODUCED)
    db.session.add(pairing)
    db.session.flush()
    for m in (a, b):
        db.session.add(PairingConsent(pairing_id=pairing.id, member_id=m.id, answer=ConsentAnswer.YES,
                                      share_photo=share_photo))
    db.session.flush()
    return a, b, pairing


def test_the_other_side_sees_the_photo_only_with_photo_consent(client, csrf, login_as, photo_dir):
    vol_a = make_user("volunteer")
    vol_b = make_user("volunteer")
    a, b, pairing = _introduced(vol_a, vol_b)
    db.session.commit()
    login_as(vol_b)
    upload(client, csrf, b, jpeg())
    client.post("/logout", data={"csrf_token": csrf()})
    login_as(vol_a)
    url = f"/privacy/pairings/{pairing.id}/members/{b.id}/photo"
    assert client.get(f"/privacy/members/{b.id}/photo").status_code == 404  # not their case file
    assert client.get(url).status_code == 404  # no photo consent yet
    services.record_consent(db.session.get(Member, b.id), Purpose.PHOTO, True, Channel.PAPER, vol_b)
    db.session.commit()
    assert client.get(url).status_code == 200
    services.record_consent(db.session.get(Member, b.id), Purpose.PHOTO, False, Channel.PHONE, vol_b)
    db.session.commit()
    assert client.get(url).status_code == 404  # withdrawal hides it at once


def test_the_other_side_does_not_see_a_photo_the_member_did_not_share_in_the_introduction(
        client, csrf, login_as, photo_dir):
    vol_a, vol_b = make_user("volunteer"), make_user("volunteer")
    a, b, pairing = _introduced(vol_a, vol_b, share_photo=False)
    db.session.commit()
    login_as(vol_b)
    upload(client, csrf, b, jpeg())
    services.record_consent(db.session.get(Member, b.id), Purpose.PHOTO, True, Channel.PAPER, vol_b)
    db.session.commit()
    client.post("/logout", data={"csrf_token": csrf()})
    login_as(vol_a)
    assert client.get(f"/privacy/pairings/{pairing.id}/members/{b.id}/photo").status_code == 404
