"""Issue 11, layout: every role's main pages in Chromium on a 360 px and a 390 px phone and a 1280 px desktop.

No page is wider than the screen; buttons, links in lists and the Menu are at least 44 x 44 px on phones; the
list tables turn into labelled cards on phones and stay tables on a desktop; the pipeline board scrolls one
snapped, nearly full-width column at a time; the navigation folds into a Menu that opens without script; a case
file prints as a summary without navigation, forms or buttons. Screenshots: test-artifacts/screenshots/.
"""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, htmx_settled, log_in
from tests.browser.test_security_pages import Office

pytestmark = pytest.mark.browser

VIEWPORTS = {
    "phone360": {**PHONE, "viewport": {"width": 360, "height": 740}},
    "phone390": PHONE,
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
# Half a pixel of rounding: a 44 px box can measure 43.99.
TAP = 43.5

# Everything a finger must hit: buttons (not the text-like ones inside a sentence), button links, the Menu,
# links inside list cards, pager links, checkboxes' hit areas. Only visible boxes count.
MEASURE_TARGETS = """(sel) => Array.from(document.querySelectorAll(sel)).map(el => {
  const r = el.getBoundingClientRect(), st = getComputedStyle(el);
  if (!r.width || !r.height || st.visibility === "hidden") return null;
  return {what: el.outerHTML.slice(0, 120), w: r.width, h: r.height};
}).filter(Boolean)"""
CARD_TABLE = ".table:not(.compact, .keep-table)"  # app.css: these tables become cards on a phone
TARGETS = ("main button:not(.link), main a.button, header .menu > summary, .pager a, .select-hit, .door-tap, .tabs a, "
           f"{CARD_TABLE} td a")
# On a phone (is_mobile) Chromium widens the layout viewport to fit content that is too wide, and zooms out: so
# innerWidth is compared with the screen's width as configured, not only with scrollWidth.
OVERFLOW = """(width) => {
  const s = document.scrollingElement, wide = [];
  const fits = s.scrollWidth <= width && innerWidth <= width;
  if (!fits) {
    const clipped = el => {
      const start = getComputedStyle(el).position === "absolute" ? el.offsetParent : el.parentElement;
      for (let p = start; p; p = p.parentElement) {
        const root = p === document.body || p === document.documentElement;
        if (!root && getComputedStyle(p).overflowX !== "visible") return true;
    } return false; };
    for (const el of document.querySelectorAll("body *")) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 1 && !clipped(el)) wide.push(`${el.outerHTML.slice(0, 100)} (${r.left}-${r.right})`);
    }
  }
  return {fits: fits, scrollWidth: s.scrollWidth, innerWidth: innerWidth, wide: wide.slice(0, 6)};
}"""
UNLABELLED_CELLS = """(sel) => Array.from(document.querySelectorAll(sel + " tbody tr")).flatMap(tr =>
  Array.from(tr.children).slice(1).filter(td =>
    !td.matches(".select, .empty, .select + td, .actions-cell, [data-label]") && td.textContent.trim()
  ).map(td => tr.outerHTML.slice(0, 160)))"""


def pages_of(page, office: Office, role: str) -> list[str]:
    links = page.locator("header nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert links, "the navigation has no links"
    return list(dict.fromkeys(["/", *links, *office.extra_pages(role)]))


def name_of(url: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", urlsplit(url).path.lower()).strip("-") or "home"


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("role", ["volunteer", "supervisor", "counsellor", "admin"])
def test_main_pages_fit_the_screen_with_large_tap_targets(db, fresh_context, shot, role, viewport):
    office = Office()
    page = fresh_context(**VIEWPORTS[viewport]).new_page()
    log_in(page, getattr(office, role))
    phone = viewport != "desktop"
    problems: list[str] = []
    for url in pages_of(page, office, role):
        response = page.goto(url)
        assert response is not None and response.status < 400, (url, response and response.status)
        htmx_settled(page)
        width = VIEWPORTS[viewport]["viewport"]["width"]
        size = page.evaluate(OVERFLOW, width)
        if not size["fits"]:
            problems.append(f"{url}: page {size['scrollWidth']} px wide on a {width} px screen: {size['wide']}")
        unlabelled = page.evaluate(UNLABELLED_CELLS, CARD_TABLE)
        problems.extend(f"{url}: a table cell without data-label: {row}" for row in unlabelled)
        if phone:
            small = [t for t in page.evaluate(MEASURE_TARGETS, TARGETS) if t["h"] < TAP or t["w"] < TAP]
            problems.extend(f"{url}: tap target {t['w']:.0f}x{t['h']:.0f} px: {t['what']}" for t in small)
        if viewport != "phone390":  # the 390 px phone is measured, not photographed (it looks like 360)
            shot(page, name_of(url))
    assert not problems, "\n".join(problems)


def test_phone_navigation_is_a_menu_that_opens_without_script(db, fresh_context, shot):
    office = Office()
    page = fresh_context(**VIEWPORTS["phone360"], java_script_enabled=False).new_page()
    log_in(page, office.supervisor)
    nav_links = page.locator("header nav a")
    expect(nav_links.first).to_be_hidden()
    expect(page.locator(".account")).to_be_hidden()
    header = page.locator("header").bounding_box()
    assert header is not None and header["height"] < 70, "the closed menu takes one line"
    shot(page, "closed")
    page.locator("header .menu > summary").click()
    expect(nav_links.first).to_be_visible()
    expect(page.locator(".account form[action$='/logout'] button")).to_be_visible()
    boxes = nav_links.evaluate_all("links => links.map(a => a.getBoundingClientRect().height)")
    assert len(boxes) >= 5 and min(boxes) >= TAP
    shot(page, "open")
    page.locator("header nav a[href='/followups/']").click()
    expect(page).to_have_url(re.compile(r"/followups/"))

    desktop = fresh_context(**VIEWPORTS["desktop"]).new_page()
    log_in(desktop, office.supervisor)
    expect(desktop.locator("header .menu > summary")).to_be_hidden()
    expect(desktop.locator("header nav a").first).to_be_visible()
    expect(desktop.locator(".account")).to_be_visible()


def test_lists_are_cards_on_a_phone_and_tables_on_a_desktop(db, fresh_context, shot):
    office = Office()
    for viewport in ("phone360", "desktop"):
        page = fresh_context(**VIEWPORTS[viewport]).new_page()
        log_in(page, office.supervisor)
        page.goto("/members/search")
        rows = page.locator("#results table.members tbody tr")
        expect(rows).to_have_count(3)
        cell = rows.first.locator("td[data-label]").nth(1)
        display = cell.evaluate("td => getComputedStyle(td).display")
        label = cell.evaluate("td => getComputedStyle(td, '::before').content")
        if viewport == "desktop":
            assert display == "table-cell"
            assert label in ("none", "normal")
        else:
            assert display == "block"
            assert cell.get_attribute("data-label") in label  # e.g. "状态："
            row_box, next_box = rows.nth(0).bounding_box(), rows.nth(1).bounding_box()
            assert row_box["width"] <= 360 and next_box["y"] >= row_box["y"] + row_box["height"], "cards stack"
            # The name is the card's title, without a label; the checkbox is a 44 px target in the corner.
            title = rows.first.locator("td.select + td")
            assert title.evaluate("td => getComputedStyle(td, '::before').content") in ("none", "normal")
            hit = rows.first.locator(".select-hit").bounding_box()
            assert hit["width"] >= TAP and hit["height"] >= TAP
        shot(page, f"search-{viewport}")


def test_pipeline_board_scrolls_by_snapped_columns_on_a_phone(db, fresh_context, shot):
    office = Office()
    page = fresh_context(**VIEWPORTS["phone390"]).new_page()
    log_in(page, office.volunteer)
    page.goto("/pairings/board")
    board = page.locator("#board")
    assert board.evaluate("b => getComputedStyle(b).scrollSnapType").startswith("x mandatory")
    columns = board.locator(".board-column")
    assert columns.count() >= 4
    widths = columns.evaluate_all("cs => cs.map(c => c.getBoundingClientRect().width)")
    assert all(0.8 * 390 <= w <= 390 for w in widths), widths
    size = page.evaluate(OVERFLOW, 390)
    assert size["fits"], size
    # Each column's title shows its count, and is inside the screen when the column is.
    first_head = columns.first.locator("h2")
    expect(first_head.locator(".count")).to_be_visible()
    shot(page, "first-column")
    # A swipe that stops between two columns settles on a column's start.
    board.evaluate("b => b.scrollBy({left: b.querySelector('.board-column').offsetWidth * 0.7, behavior: 'instant'})")
    page.wait_for_function("""() => {
      const b = document.getElementById('board');
      return Array.from(b.querySelectorAll('.board-column')).some(c =>
        Math.abs(c.getBoundingClientRect().left - b.getBoundingClientRect().left -
                 parseFloat(getComputedStyle(b).scrollPaddingLeft || 0)) < 2 && b.scrollLeft > 0);
    }""")
    second = columns.nth(1)
    box = second.bounding_box()
    assert 0 <= box["x"] <= 40, box
    expect(second.locator("h2 .count")).to_be_in_viewport()
    shot(page, "second-column")


def test_case_file_prints_as_a_summary_without_navigation_or_forms(db, fresh_context, shot):
    office = Office()
    page = fresh_context(**VIEWPORTS["desktop"]).new_page()
    log_in(page, office.volunteer)
    page.goto(f"/members/{office.member.id}")
    expect(page.locator("#notes form").first).to_be_visible()  # on screen the forms are there
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    for selector in ("main form", "main button", "main a.button", "main details", "main select", "main textarea"):
        visible = page.locator(selector).evaluate_all("els => els.filter(e => e.getClientRects().length).length")
        assert visible == 0, f"{selector} is printed"
    expect(page.locator("#member-phone a")).to_be_hidden()  # "show full number" means nothing on paper
    expect(page.locator("#h-status")).to_be_hidden()  # a panel that holds only a form goes, heading and all
    expect(page.locator("h1")).to_contain_text("李晓梅")
    expect(page.locator("#notes")).to_contain_text("第一次电话，了解基本情况。")
    expect(page.locator("main")).to_contain_text(office.pairing.reference)  # the introductions panel
    # One column on paper, black on white, notes not split across pages.
    assert page.locator(".casefile").evaluate("c => getComputedStyle(c).display") == "block"
    assert page.locator("#notes .timeline li").first.evaluate("li => getComputedStyle(li).breakInside") == "avoid"
    shot(page, "print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    # A list prints as a plain table, even where the page is as narrow as a phone.
    page.goto("/members/")
    page.set_viewport_size({"width": 600, "height": 900})
    assert page.locator("table.members td[data-label]").first.evaluate(
        "td => getComputedStyle(td).display") == "table-cell"
    assert page.locator(".filters").evaluate("f => getComputedStyle(f).display") == "none"
