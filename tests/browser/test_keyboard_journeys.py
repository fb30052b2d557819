"""Issue 11, keyboard only: Tab / Shift+Tab / Enter / Space / arrows and typing, never the mouse and never a
locator's click or fill. A volunteer signs in, finds a member by search, opens the case file and adds a
note; a supervisor reassigns a member. At every stop the focused element shows a visible focus indicator
(:focus-visible with an outline or a box-shadow, on screen); the skip link leads into the content; Tab walks
through every control of a page and out of it (nothing traps the focus), and Shift+Tab walks back."""

import pytest
from sqlalchemy import select

from crm.extensions import db as _db
from crm.members.models import Gender, Member, Note
from tests.browser.axe import assert_accessible
from tests.browser.conftest import htmx_settled
from tests.factories import PASSWORD, make_branch, make_member, make_user

pytestmark = pytest.mark.browser

FOCUSED = r"""(selector) => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) { return null; }
  const style = getComputedStyle(e);
  const box = e.getBoundingClientRect();
  const path = [];
  for (let n = e; n && n.nodeType === 1 && n !== document.body; n = n.parentElement) {
    path.unshift(n.tagName.toLowerCase() + (n.id ? "#" + n.id : "") + ":" +
                 Array.prototype.indexOf.call(n.parentElement ? n.parentElement.children : [], n));
  }
  // The ring is drawn outside the element (outline-offset): it must stand out from what is behind it there,
  // the first opaque background among the ancestors (WCAG 1.4.11, 3:1 for user interface components).
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b]
    .map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  let behind = "rgb(255, 255, 255)";
  for (let n = e.parentElement; n; n = n.parentElement) {
    const bg = getComputedStyle(n).backgroundColor, parts = rgb(bg);
    if (parts.length === 3 || (parts.length === 4 && parts[3] === 1)) { behind = bg; break; }
  }
  const ring = style.outlineStyle !== "none" ? style.outlineColor : null;  // a box-shadow ring: not measured
  const [hi, lo] = [lum(rgb(ring || behind)), lum(rgb(behind))].sort((a, b) => b - a);
  return {
    ringContrast: Math.round((hi + 0.05) / (lo + 0.05) * 100) / 100, ring: ring, behind: behind,
    path: path.join(">"), html: e.outerHTML.slice(0, 140), matches: selector ? e.matches(selector) : false,
    // Chromium's date inputs take one Tab stop per part (year, month, day) while staying the focused element.
    parts: e.matches("input[type=date], input[type=time], input[type=datetime-local], input[type=month]"),
    focusVisible: e.matches(":focus-visible") || (e.matches(":focus-within") &&
                  e.matches("input[type=date], input[type=time], input[type=datetime-local], input[type=month]")),
    indicator: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== "none",
    onScreen: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0 &&
              box.left < window.innerWidth + window.scrollX,
  };
}"""
# What Tab can reach: the page's own tabbable controls, in document order.
TABBABLE = """() => Array.from(document.querySelectorAll(
  'a[href], button, input, select, textarea, summary, [tabindex]')).filter(e =>
  !e.disabled && e.tabIndex >= 0 && e.type !== "hidden" && e.getClientRects().length > 0 &&
  getComputedStyle(e).visibility !== "hidden").length"""


def focused(page, selector: str | None = None) -> dict | None:
    return page.evaluate(FOCUSED, selector)


def ring_problem(now: dict) -> str | None:
    if not (now["focusVisible"] and now["indicator"]):
        return f"no visible focus indicator on {now['html']}"
    if now["ring"] and now["ringContrast"] < 3:
        return (f"the focus ring ({now['ring']}) on {now['html']} has a contrast of {now['ringContrast']}:1 "
                f"against {now['behind']} (needs 3:1)")
    return None


def assert_focus_shows(page, where: str) -> dict:
    now = focused(page)
    assert now is not None, f"{where}: the focus left the page"
    assert not ring_problem(now), f"{where}: {ring_problem(now)}"
    assert now["onScreen"], f"{where}: the focused element is off screen: {now['html']}"
    return now


def tab_to(page, selector: str, *, back: bool = False, limit: int = 120) -> dict:
    """Press Tab (Shift+Tab with back=True) until the focused element matches `selector`, checking the focus
    indicator at every stop; fails with the path taken if it is never reached or the focus gets stuck."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        now = focused(page, selector)
        if now is None:
            continue  # passed out of the page into the browser's own controls: Tab comes back in
        assert not ring_problem(now), ring_problem(now)
        assert now["onScreen"], f"the focused element is off screen: {now['html']}"
        if seen and seen[-1] == now["path"]:
            assert now["parts"], f"Tab did not move the focus from {now['html']}"
            continue
        seen.append(now["path"])
        if now["matches"]:
            return now
    raise AssertionError(f"{selector} never got the focus; the focus went through:\n" + "\n".join(seen[-40:]))


def type_text(page, text: str):
    page.keyboard.insert_text(text)  # Chinese comes from an input method: one insertion, as the IME commits it


def sign_in(page, user):
    page.goto("/login")
    tab_to(page, "input[name=username]")
    type_text(page, user.username)
    page.keyboard.press("Tab")
    assert focused(page, "input[name=password]")["matches"]
    type_text(page, PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def skip_into_main(page):
    """The first Tab of a page lands on the skip link, visible; Enter on it sends the next Tab into <main>."""
    page.locator("body").evaluate("b => { document.activeElement && document.activeElement.blur(); }")
    page.keyboard.press("Tab")
    first = assert_focus_shows(page, "skip link")
    assert 'class="skip"' in first["html"], first["html"]
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('main')"), focused(page)["html"]


def search_and_open(page, member):
    tab_to(page, "input[name=q]")
    type_text(page, member.name)
    # Enter submits the search form natively (its htmx trigger is typing, not submit): a new document, whose
    # stylesheet may still be loading when its elements exist. Tabbing before "load" met the browser's own
    # 1 px focus ring instead of ours.
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    link = f"main table a[href$='/members/{member.id}']"
    page.locator(link).wait_for()
    tab_to(page, link)
    page.keyboard.press("Enter")
    page.locator("main h1", has_text=member.name).wait_for()


@pytest.fixture
def office(db):
    branch = make_branch(name="拱墅区工会服务站")
    people = {"volunteer": make_user("volunteer", branch=branch, display_name="王芳"),
              "volunteer2": make_user("volunteer", branch=branch, display_name="李娜"),
              "supervisor": make_user("supervisor", branch=branch, display_name="周主任")}
    people["member"] = make_member(owner=people["volunteer"], name="李晓梅", gender=Gender.FEMALE)
    make_member(owner=people["volunteer"], name="张建国", gender=Gender.MALE)
    _db.session.commit()
    return people


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_volunteer_finds_a_member_and_adds_a_note_by_keyboard(db, chinese_by_default, fresh_context, shot, office,
                                                              phone):
    page = fresh_context(phone=phone).new_page()
    sign_in(page, office["volunteer"])
    skip_into_main(page)
    shot(page, "caseload")
    search_and_open(page, office["member"])
    assert_accessible(page, "case file reached by keyboard")
    text = "周六电话回访：她想先通过微信聊几天再见面。"
    tab_to(page, "#notes textarea[name=body]")
    type_text(page, text)
    shot(page, "note-typed")
    tab_to(page, "#notes form button[type=submit]")
    page.keyboard.press("Space")
    page.locator("#notes li", has_text=text).wait_for()
    shot(page, "note-added")
    _db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    note = _db.session.scalars(select(Note).where(Note.member_id == office["member"].id, Note.body == text)).one()
    assert note.author_id == office["volunteer"].id
    # After the htmx swap the focus is still on the page, and the keyboard goes on from there.
    page.keyboard.press("Tab")
    assert_focus_shows(page, "after adding the note")


def test_supervisor_reassigns_a_member_by_keyboard(db, chinese_by_default, fresh_context, shot, office):
    page = fresh_context().new_page()
    sign_in(page, office["supervisor"])
    # A supervisor signs in onto the member search itself: start from another page, so that the wait below
    # sees the link's navigation end (on the same URL it returned at once, and Tab met a page being replaced).
    page.goto("/pairings/board")
    tab_to(page, "header nav a[href='/members/search']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/members/search")
    htmx_settled(page)
    search_and_open(page, office["member"])
    tab_to(page, "main a[href$='/reassign']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/reassign")
    tab_to(page, "select[name=to_user_id]")
    target = str(office["volunteer2"].id)
    for _ in range(20):  # arrows move through the options of a closed select
        if page.locator("select[name=to_user_id]").input_value() == target:
            break
        page.keyboard.press("ArrowDown")
    assert page.locator("select[name=to_user_id]").input_value() == target
    tab_to(page, "textarea[name=reason], input[name=reason]")
    type_text(page, "王芳休产假，由李娜接手。")
    shot(page, "reassign-form")
    tab_to(page, "main form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/members/{office['member'].id}")
    shot(page, "reassigned")
    _db.session.rollback()
    member = _db.session.get(Member, office["member"].id)
    assert member.owner_id == office["volunteer2"].id


@pytest.mark.parametrize("where", ["case file", "member form", "search"])
def test_tab_goes_through_every_control_and_out_and_shift_tab_comes_back(db, chinese_by_default, fresh_context,
                                                                         office, where):
    page = fresh_context().new_page()
    sign_in(page, office["volunteer"])
    member_id = office["member"].id
    page.goto({"case file": f"/members/{member_id}", "member form": f"/members/{member_id}/edit",
               "search": "/members/search?q=李"}[where])
    htmx_settled(page)  # htmx's loads settle first: a swap mid-walk moves the focus to <body>
    controls = page.evaluate(TABBABLE)
    assert controls > 10
    forward = []
    for _ in range(controls * 3 + 5):
        page.keyboard.press("Tab")
        now = focused(page)
        if now is None:
            break  # out of the page: nothing held the focus
        assert not ring_problem(now), ring_problem(now)
        if forward and forward[-1] == now["path"] and now["parts"]:
            continue
        assert now["path"] not in forward, f"the focus came back to {now['html']} before leaving the page"
        forward.append(now["path"])
    else:
        raise AssertionError(f"Tab never left the page after {controls * 3 + 5} presses: the focus is trapped")
    # Radio groups take one Tab stop each, so Tab may visit fewer than the tabbable count, never more.
    assert len(forward) <= controls and len(forward) >= controls * 0.6, (len(forward), controls)
    backward = []
    for _ in range(len(forward) * 3 + 5):
        page.keyboard.press("Shift+Tab")
        now = focused(page)
        if now is None:
            break
        if not (backward and backward[-1] == now["path"] and now["parts"]):
            backward.append(now["path"])
        if now["path"] == forward[0]:
            # Back at the first stop. Where Shift+Tab goes from there is Chromium's choice: out to its own
            # controls, or (seen in CI) round to the page's last control again.
            break
    assert backward == forward[::-1], "Shift+Tab does not retrace the Tab order"
