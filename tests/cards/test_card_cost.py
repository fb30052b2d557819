"""What keeps a card cheap to lay out (issue 10: 100 cards in one PDF within 5 s): fewer text runs, no
line-break whitespace between tags, no cyclic garbage collection while WeasyPrint works."""

import gc
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import weasyprint
from flask import render_template, session
from PIL import Image, ImageChops

from crm.cards import pdf
from crm.cards.services import CardSide
from tests.cards.helpers import pdf_pages_text

needs_poppler = pytest.mark.skipif(not shutil.which("pdftocairo"), reason="poppler-utils is not installed")

CARD = CardSide(reference="QQ-000321", introduced_on="2026年11月23日", branch_name="杭州市总工会职工服务中心",
                branch_phone=None, recipient_name="张先生", name="李女士", gender="女", age=31,
                occupation="IT 与软件", education="本科", work_area="杭州市西湖区", home_area="杭州市滨江区",
                height_cm=165, interests=("徒步", "摄影", "读书", "茶艺", "烘焙"), shared_interests=("徒步", "摄影"),
                self_intro="周末喜欢爬山。\n也喜欢读历史书。", phone="13800001111", wechat_id="wx_li_31",
                employer=None, suggestion="周末去西湖边徒步", volunteer_name="王红", volunteer_phone="13900002222")


def _html(app, cards, lang="zh_Hans_CN"):
    with app.test_request_context():
        session["lang"] = lang
        return render_template("cards/cards.html", cards=cards)


def test_shared_interests_are_pills_and_the_others_one_run_of_text(app, db):
    html = _html(app, [CARD])
    cell = re.search(r'<td class="tags">(.*?)</td>', html).group(1)
    assert cell == '<span class="tag">徒步</span> <span class="tag">摄影</span> 读书 · 茶艺 · 烘焙'
    alone = _html(app, [replace(CARD, shared_interests=())])
    assert re.search(r'<td class="tags">(.*?)</td>', alone).group(1) == "徒步 · 摄影 · 读书 · 茶艺 · 烘焙"
    everything_shared = _html(app, [replace(CARD, interests=("徒步", "摄影"))])
    assert re.search(r'<td class="tags">(.*?)</td>', everything_shared).group(1) == (
        '<span class="tag">徒步</span> <span class="tag">摄影</span> ')


def test_every_interest_is_printed_in_both_languages(app, db):
    for lang in ("zh_Hans_CN", "en"):
        with app.test_request_context():
            session["lang"] = lang
            text = pdf_pages_text(pdf.render_cards([CARD]))[0]
        for label in CARD.interests:
            assert label in text, (lang, label, text)


def test_line_breaks_between_tags_are_dropped_and_text_is_kept(app, db, monkeypatch):
    seen = []
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html, **kw: seen.append(html) or b"%PDF")
    with app.test_request_context():
        session["lang"] = "zh_Hans_CN"
        pdf.render_cards([CARD, CARD])
    html = seen[0]
    assert html.count("QQ-000321") == 2 * 2  # both cards, each with the reference twice
    assert not re.search(r">\s*\n\s*<", html)
    assert "周末喜欢爬山。\n也喜欢读历史书。" in html  # a line break inside the member's own text stays
    assert '<span class="tag">徒步</span> <span class="tag">摄影</span> 读书' in html  # spaces between words stay
    assert "</article><article" in html


def test_weasyprint_works_with_the_collector_paused(app, db, monkeypatch):
    states = []
    write_pdf = weasyprint.HTML.write_pdf

    def spying(self, *args, **kwargs):
        states.append(gc.isenabled())
        return write_pdf(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", spying)
    assert gc.isenabled()
    with app.test_request_context():
        data = pdf.render_cards([CARD])
    assert states == [False]
    assert gc.isenabled()
    assert data.startswith(b"%PDF")


def test_the_collector_pause_restores_what_it_found(monkeypatch):
    assert gc.isenabled()
    with pytest.raises(RuntimeError), pdf.gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("a render that fails")
    assert gc.isenabled()
    with pdf.gc_paused():
        with pdf.gc_paused():  # nested (or another thread's render): the inner one leaves it off
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with pdf.gc_paused():
            pass
        assert not gc.isenabled()  # someone else turned it off: left off
    finally:
        gc.enable()


@needs_poppler
def test_the_bridge_is_one_image_embedded_once_and_placed_on_every_card(app, db, tmp_path):
    with app.test_request_context():
        data = pdf.render_cards([CARD, replace(CARD, name="王女士"), CARD])
    path = tmp_path / "cards.pdf"
    path.write_bytes(data)
    rows = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    placed = [cols for cols in map(str.split, rows.splitlines()[2:]) if cols and cols[2] == "image"]
    assert [(int(c[0]), int(c[3]), int(c[4])) for c in placed] == [(page, *pdf.BRIDGE_PX) for page in (1, 2, 3)]
    assert len({c[10] for c in placed}) == 1  # one image object, drawn three times


@needs_poppler
def test_the_bridge_png_is_the_svg_rasterized(app, tmp_path):
    """bridge.png must follow bridge.svg (crm.cards.pdf.make_bridge_png rebuilds it)."""
    with app.app_context():
        pdf.make_bridge_png(tmp_path / "bridge.png")
    fresh = Image.open(tmp_path / "bridge.png").convert("RGBA")
    committed = Image.open(Path(app.static_folder) / pdf.BRIDGE_PNG).convert("RGBA")
    assert committed.size == fresh.size == pdf.BRIDGE_PX
    difference = ImageChops.difference(committed, fresh).getextrema()
    assert max(high for _low, high in difference) <= 8, difference
