"""Introduction cards: content and privacy, the font, page size, refusals, batches and the audit log."""

import io
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import session
from flask_babel import force_locale
from flask_babel import gettext as _
from pypdf import PdfReader
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.cards import pdf
from crm.cards.services import CardSide
from crm.extensions import db
from crm.pairings.models import PairingCloseReason, Stage
from crm.pairings.pipeline import move
from tests.cards.helpers import MARKERS, consent, introduced, more_introductions, pdf_fonts, pdf_pages_text
from tests.factories import make_member

PRIVACY = "This card is for you alone. Please do not forward, copy or photograph it."
A6_POINTS = (105 / 25.4 * 72, 148 / 25.4 * 72)
needs_poppler = pytest.mark.skipif(not shutil.which("pdffonts"), reason="poppler-utils is not installed")


def _zh(app, msgid):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        return _(msgid)


def _use_language(client, lang):
    with client.session_transaction() as session:
        session["lang"] = lang


def _get_cards(client, pairing):
    response = client.get(f"/pairings/{pairing.id}/cards.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    return response.data


def test_card_shows_the_shared_profile_and_nothing_unconsented(app, client, login_as):
    pairing, vol_a, vol_b, a, b = introduced()
    login_as(vol_a)
    _use_language(client, "zh_Hans_CN")
    card_for_a, card_for_b = pdf_pages_text(_get_cards(client, pairing))

    assert "欧女士" in card_for_a  # courtesy name of B: full name not consented
    assert "张先生" in card_for_a  # addressed to A
    for marker in MARKERS.values():
        assert marker not in card_for_a and marker not in card_for_b
    assert "杭州市西湖区" in card_for_a and "喜欢周末爬山和拍照" in card_for_a
    assert "杭州市总工会职工服务中心" in card_for_a
    assert "王红" in card_for_a and "13900002222" in card_for_a  # A's own volunteer
    assert "赵敏" in card_for_b and "13900003333" in card_for_b
    assert pairing.reference in card_for_a and pairing.reference in card_for_b
    flat = re.sub(r"\s+", "", card_for_a)
    assert re.sub(r"\s+", "", _zh(app, PRIVACY)) in flat
    for interest in ("Hiking", "Reading", "Photography"):
        assert re.sub(r"\s+", "", _zh(app, interest)) in flat


def test_consented_fields_are_printed_for_the_other_side_only(client, login_as):
    pairing, vol_a, *_ = introduced(shares_b=tuple(MARKERS))
    login_as(vol_a)
    card_for_a, card_for_b = pdf_pages_text(_get_cards(client, pairing))
    for field, marker in MARKERS.items():
        assert marker in card_for_a
        if field != "share_full_name":  # B's own card is addressed to B by the name B agreed to share
            assert marker not in card_for_b
    assert "欧女士" not in card_for_a


def test_card_language_follows_the_user(client, login_as):
    pairing, vol_a, *_ = introduced()
    login_as(vol_a)
    _use_language(client, "en")
    text = pdf_pages_text(_get_cards(client, pairing))[0]
    assert "Introduction card" in text and "do not forward" in text and "Hiking" in text


def test_first_meeting_is_drawn_from_shared_interests(app, client, login_as):
    pairing, vol_a, *_ = introduced()  # both like hiking
    login_as(vol_a)
    _use_language(client, "en")
    text = re.sub(r"\s+", " ", pdf_pages_text(_get_cards(client, pairing))[0])
    assert "A weekend walk on a lakeside or hill trail" in text
    assert "You both enjoy: Hiking" in text


def test_two_a6_pages_real_font_embedded_as_subset_and_no_missing_glyphs(client, login_as, caplog, tmp_path):
    pairing, vol_a, *_ = introduced()
    login_as(vol_a)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        data = _get_cards(client, pairing)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) == 2
    for page in pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A6_POINTS, abs=0.5)
    if shutil.which("pdffonts"):
        fonts = pdf_fonts(data, tmp_path)
        # one embedded font, a subset (6-letter tag) of the TrueType Micro Hei: no Noto (slow to subset) when
        # no rare character asks for it, and no second "bold" copy of the same glyphs
        assert re.findall(r"^[A-Z]{6}\+(\S+)\s.*\byes\s+yes\s+yes\b", fonts, re.M) == ["WenQuanYi-Micro-Hei"], fonts
    assert len(data) < 100_000  # ~30 KB; it was ~250 KB with Noto CJK


def test_missing_glyphs_would_be_caught(app, caplog):
    """The oracle of the test above works: a glyph no installed font has is logged as .notdef."""
    with app.test_request_context(), caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf.html_to_pdf(f'<html lang="zh-CN"><body style="font-family: \'{pdf.CJK_FAMILY}\'">'
                        '你好 \U00017000</body></html>')
    assert any(".notdef" in r.getMessage() for r in caplog.records)


def test_emoji_in_a_self_introduction_do_not_print_as_boxes(client, login_as, caplog):
    pairing, vol_a, *_ = introduced(self_intro="喜欢爬山😊和猫🐱，也爱喝茶☕。")
    login_as(vol_a)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        text = pdf_pages_text(_get_cards(client, pairing))[0]
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    assert "喜欢爬山和猫" in re.sub(r"\s+", "", text)


def test_refused_with_a_message_before_both_said_yes(client, login_as):
    from tests.pairings.helpers import proposed
    pairing, vol_a, vol_b, a, b = proposed()
    consent(pairing, a, vol_a)
    db.session.commit()
    login_as(vol_a)
    response = client.get(f"/pairings/{pairing.id}/cards.pdf")
    assert response.status_code == 403
    message = _("Introduction cards can be printed only after both members have said yes.")
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "pairing.print_cards")).all() == []
    assert "print-cards" not in client.get(f"/pairings/{pairing.id}").get_data(as_text=True)


def test_closed_introduction_prints_no_cards(client, login_as):
    pairing, vol_a, *_ = introduced()
    move(pairing, Stage.CLOSED, vol_a, note="不合适", close_reason=PairingCloseReason.NO_CHEMISTRY)
    db.session.commit()
    login_as(vol_a)
    assert client.get(f"/pairings/{pairing.id}/cards.pdf").status_code == 403


def test_someone_elses_pairing_is_not_found(client, login_as):
    pairing, *_ = introduced()
    login_as("volunteer")
    assert client.get(f"/pairings/{pairing.id}/cards.pdf").status_code == 404
    assert client.get("/pairings/999999/cards.pdf").status_code == 404


def test_printing_is_audited_and_linked_from_the_detail_page(client, login_as):
    pairing, vol_a, *_ = introduced()
    login_as(vol_a)
    page = client.get(f"/pairings/{pairing.id}").get_data(as_text=True)
    assert f"/pairings/{pairing.id}/cards.pdf" in page
    _get_cards(client, pairing)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "pairing.print_cards")).one()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (vol_a.id, "pairings", pairing.id)


def _three_introductions():
    first, vol_a, vol_b, *_ = introduced()
    return [first, *more_introductions(vol_a, vol_b, 2)], vol_a, vol_b


def test_batch_prints_two_pages_per_pairing_and_audits_each(client, login_as, csrf):
    pairings, vol_a, _vol_b = _three_introductions()
    login_as(vol_a)
    assert all(f'value="{p.id}"' in client.get("/cards").get_data(as_text=True) for p in pairings)
    response = client.post("/cards/batch", data={"csrf_token": csrf(), "pairing_id": [str(p.id) for p in pairings]})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 2 * len(pairings)
    assert response.headers["X-Cards-Skipped"] == "0"
    audited = db.session.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "pairing.print_cards")).all()
    assert sorted(audited) == sorted(p.id for p in pairings)


def test_batch_skips_and_reports_what_may_not_be_printed(client, login_as, csrf):
    from tests.pairings.helpers import proposed
    pairings, vol_a, _vol_b = _three_introductions()
    from crm.members.models import Gender
    from crm.pairings import services
    waiting = proposed()[0]  # someone else's
    mine_waiting = services.propose_pairing(make_member(owner=vol_a, gender=Gender.MALE),
                                            make_member(owner=_vol_b), vol_a)  # only proposed
    db.session.commit()
    login_as(vol_a)
    ids = [pairings[0].id, waiting.id, mine_waiting.id, 2_000_000_000]
    response = client.post("/cards/batch", data={"csrf_token": csrf(), "pairing_id": [str(i) for i in ids] + ["x"]})
    assert response.status_code == 200
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 2
    assert response.headers["X-Cards-Skipped"] == "3"
    page = client.get("/cards").get_data(as_text=True)
    assert f"#{waiting.id}" in page and "#2000000000" in page and mine_waiting.reference in page
    assert waiting.reference not in page  # someone else's pairing reads like an unknown one


def test_batch_with_nothing_printable_says_so_and_prints_nothing(client, login_as, csrf):
    login_as("volunteer")
    response = client.post("/cards/batch", data={"csrf_token": csrf()})
    assert response.status_code == 422
    assert _("Choose at least one introduction to print.") in response.get_data(as_text=True)
    response = client.post("/cards/batch", data={"csrf_token": csrf(), "pairing_id": ["424242"]})
    assert response.status_code == 422
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "pairing.print_cards")).all() == []


def test_fetcher_serves_static_files_only(app):
    fetcher = pdf.StaticOnlyFetcher(Path(app.static_folder))
    css = (Path(app.static_folder) / "cards" / "card.css").as_uri()
    assert b"@page" in fetcher.fetch(css).read()
    for url in ("http://example.com/x.png", "https://127.0.0.1/", "file:///etc/passwd",
                (Path(app.static_folder) / ".." / "crm" / "config.py").as_uri(), "data:text/plain,hi"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_outside_resources_in_a_card_are_not_fetched(app, caplog):
    html = '<html lang="zh-CN"><body><img src="http://203.0.113.9/t.png"><img src="file:///etc/hostname">你好</body></html>'
    with app.test_request_context(), caplog.at_level(logging.WARNING, logger="weasyprint"):
        data = pdf.html_to_pdf(html)
    assert data.startswith(b"%PDF")
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "203.0.113.9" in messages and "/etc/hostname" in messages  # refused, not fetched


def test_fonts_resolve_to_micro_hei_with_the_noto_fallback(caplog):
    if not shutil.which("fc-match"):
        pytest.skip("fontconfig tools are not installed")
    with caplog.at_level(logging.WARNING, logger="crm.cards.pdf"):
        assert pdf.check_font()
    assert caplog.records == []
    assert pdf.font_file().endswith("wqy-microhei.ttc")
    assert "NotoSansCJK" in pdf.font_file(next(iter(pdf.FALLBACK_PATTERNS)))
    assert pdf.font_file("DejaVu Sans:style=Regular") is None  # only the expected packages' files count


def test_a_missing_font_is_reported_at_start_up(monkeypatch, caplog):
    monkeypatch.setattr(pdf, "font_file", lambda pattern=None: None)
    with caplog.at_level(logging.WARNING, logger="crm.cards.pdf"):
        assert not pdf.check_font()
    assert "fonts-wqy-microhei" in caplog.text


@needs_poppler
def test_rare_characters_print_in_the_fallback_font(client, login_as, caplog, tmp_path):
    """䶮 (CJK Extension A, a given name) is not in Micro Hei: Noto sets that glyph, nothing prints as a box."""
    pairing, vol_a, *_ = introduced(shares_b=("share_full_name",), name="刘䶮")
    login_as(vol_a)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        data = _get_cards(client, pairing)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    assert "刘䶮" in pdf_pages_text(data)[0]
    embedded = re.findall(r"^[A-Z]{6}\+(\S+)\s", pdf_fonts(data, tmp_path), re.M)
    assert sorted(embedded) == ["Noto-Sans-CJK-SC", "WenQuanYi-Micro-Hei"]


def test_stylesheets_and_fonts_are_loaded_once_per_process(app):
    with app.test_request_context():
        assert pdf.stylesheet(pdf.CARD_CSS) is pdf.stylesheet(pdf.CARD_CSS)
        with pytest.raises(ValueError):
            pdf.stylesheet("../crm/config.py")
    assert pdf.font_config() is pdf.font_config()


@needs_poppler
def test_a_card_as_png_for_looking_at(app, db):
    """Writes test-artifacts/card-*.png (git-ignored): open it to see the card as printed."""
    card = CardSide(reference="QQ-000123", introduced_on="2026年11月23日", branch_name="杭州市总工会职工服务中心",
                    branch_phone=None, recipient_name="张先生", name="李女士", gender="女", age=31,
                    occupation="IT 与软件", education="本科", work_area="杭州市西湖区", home_area="杭州市滨江区",
                    height_cm=165, interests=("徒步", "读书", "摄影", "茶艺"), shared_interests=("徒步",),
                    self_intro="我是一名软件工程师，周末喜欢去西湖边走走，也喜欢读历史书。希望遇到真诚、有责任心的人。",
                    phone="13800001111", wechat_id=None, employer=None, suggestion="周末去西湖边徒步",
                    volunteer_name="王红", volunteer_phone="13900002222")
    with app.test_request_context():
        session["lang"] = "zh_Hans_CN"
        data = pdf.render_cards([card])
    out = Path(app.root_path).parent / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "card.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-singlefile", str(out / "card.pdf"), str(out / "card")],
                   check=True)
    assert (out / "card.png").stat().st_size > 10_000


def test_statements_do_not_grow_with_the_batch(client, login_as, csrf, count_queries):
    pairings, vol_a, vol_b = _three_introductions()
    pairings += more_introductions(vol_a, vol_b, 3)
    login_as(vol_a)
    counts = []
    ids = [str(p.id) for p in pairings]
    for chosen in (ids[:1], ids):
        token = csrf()
        with count_queries() as statements:
            response = client.post("/cards/batch", data={"csrf_token": token, "pairing_id": chosen})
        assert response.status_code == 200
        counts.append(len(statements))  # the audit entries too: one INSERT for the whole batch
    assert counts[0] == counts[1], counts
    audited = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "pairing.print_cards")).all()
    assert sorted(e.object_id for e in audited) == sorted([pairings[0].id] + [p.id for p in pairings])
    assert {(e.actor_id, e.detail["batch"], e.detail["reference"]) for e in audited} == {
        (vol_a.id, True, p.reference) for p in pairings}
    assert all(e.at is not None and e.ip for e in audited)


def test_one_card_reads_nothing_after_the_audit_entry(client, login_as, count_queries):
    """The response needs nothing the commit expired: no reload of the pairing after its audit INSERT."""
    pairing, vol_a, *_ = introduced()
    login_as(vol_a)
    db.session.expire_all()
    with count_queries() as statements:
        _get_cards(client, pairing)
    assert statements[-1].lstrip().upper().startswith("INSERT INTO AUDIT_ENTRIES"), statements[-3:]
    assert len(statements) <= 6, statements


def test_selection_page_statements_do_not_grow(client, login_as, count_queries):
    first, vol_a, vol_b, *_ = introduced()
    login_as(vol_a)
    counts = []
    for _round in range(2):
        db.session.expire_all()  # the test shares the app's session: load the user on both rounds
        with count_queries() as statements:
            assert client.get("/cards").status_code == 200
        counts.append(len(statements))
        more_introductions(vol_a, vol_b, 4)
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize(("role", "status"), [("supervisor", 200), ("admin", 200), ("counsellor", 403)])
def test_who_else_may_print(client, login_as, role, status):
    pairing, vol_a, *_ = introduced()
    login_as(role, branch=vol_a.branch) if role == "supervisor" else login_as(role)
    assert client.get(f"/pairings/{pairing.id}/cards.pdf").status_code == status


def _photo(app, tmp_path, monkeypatch) -> str:
    """A stored photo file (as crm.privacy.photos names them) in this test's own photo folder."""
    from PIL import Image
    folder = tmp_path / "photos"
    folder.mkdir()
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(folder))
    name = "ab" * 16 + ".jpg"
    Image.new("RGB", (120, 150), (180, 40, 50)).save(folder / name, format="JPEG")
    return name


def _images_per_page(data: bytes, tmp_path) -> list[int]:
    """Images drawn on each page (pdfimages: pypdf lists the document's shared resources on every page)."""
    path = tmp_path / "cards.pdf"
    path.write_bytes(data)
    rows = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    bridge = tuple(map(str, pdf.BRIDGE_PX))  # the band's bridge, on every card (tests/cards/test_card_cost.py)
    drawn = [int(cols[0]) for cols in map(str.split, rows.splitlines()[2:])
             if cols and cols[2] == "image" and tuple(cols[3:5]) != bridge]
    return [drawn.count(page) for page in range(1, len(PdfReader(io.BytesIO(data)).pages) + 1)]


@needs_poppler
@pytest.mark.parametrize(("shares_b", "photo_consent", "printer", "shown"), [
    (("share_photo",), True, "vol_a", True),    # consented to photos, shared in this introduction
    (("share_photo",), False, "vol_a", False),  # no photo consent on the ledger
    ((), True, "vol_a", False),                 # not shared in this introduction
    (("share_photo",), True, "vol_b", False),   # printed by someone who may not open A's case file
])
def test_the_other_members_photo_prints_only_as_the_photo_view_allows(
        app, client, login_as, tmp_path, monkeypatch, shares_b, photo_consent, printer, shown):
    name = _photo(app, tmp_path, monkeypatch)
    pairing, vol_a, vol_b, a, b = introduced(shares_b=shares_b, photo_path=name, photo_consent=photo_consent)
    login_as(vol_a if printer == "vol_a" else vol_b)
    with_photo = _images_per_page(_get_cards(client, pairing), tmp_path)
    assert with_photo[1] == 0  # B's own card presents A, who has no photo
    assert with_photo[0] == (1 if shown else 0)
    from crm.auth import policy
    assert policy.can_see_photo(vol_a if printer == "vol_a" else vol_b, b, pairing) is shown  # the same rule


def test_a_photo_file_is_readable_only_by_the_document_given_it(app, tmp_path, monkeypatch):
    name = _photo(app, tmp_path, monkeypatch)
    path = tmp_path / "photos" / name
    assert pdf.StaticOnlyFetcher(Path(app.static_folder), frozenset({path})).fetch(path.as_uri()).read()
    with pytest.raises(ValueError):
        pdf.StaticOnlyFetcher(Path(app.static_folder)).fetch(path.as_uri())
