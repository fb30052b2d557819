"""Issue 9 in Chromium: every role's pages load under the Content-Security-Policy with no violation and no
JavaScript error, and an htmx form whose CSRF token or session expired says so and keeps what was typed."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from crm.extensions import db as _db
from crm.members.models import Note
from tests.browser import office
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

# Before any page script: collect CSP violations (Chromium also logs them as console errors).
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") +
                    ":" + e.lineNumber);
});
"""
NOTE_BOX = "#notes form.note-form textarea[name=body]"


class Office(office.Office):
    """The shared office (tests/browser/office.py) and the pages this sweep visits."""

    def extra_pages(self, role: str) -> list[str]:
        """Pages the navigation does not link to directly: case file, board, suggestions, counselling."""
        m, p, r = self.member.id, self.pairing.id, self.referral.id
        pages = {
            "volunteer": [f"/members/{m}", f"/members/{m}/suggestions", f"/pairings/{p}", "/pairings/board",
                          "/followups/", f"/counselling/referrals/{r}", f"/members/{m}/edit",
                          f"/pairings/propose/{m}"],
            "supervisor": [f"/members/{m}", f"/members/{m}/suggestions", f"/pairings/{p}", "/pairings/board",
                           "/followups/", f"/counselling/referrals/{r}", "/counselling/alerts",
                           f"/members/{m}/reassign"],
            "counsellor": ["/counselling/", f"/counselling/referrals/{r}", f"/counselling/referrals/{r}/profile",
                           f"/counselling/referrals/{r}/sessions/new"],
            "admin": [f"/members/{m}", "/audit/", "/admin/users", "/matching/weights", "/pairings/board"],
        }
        return pages[role]


def watch(page) -> list[str]:
    problems: list[str] = []
    page.add_init_script(LISTEN)
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" or "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    return problems


def visit(page, url: str, problems: list[str]):
    response = page.goto(url)
    assert response is not None and response.status < 400, (url, response and response.status)
    page.wait_for_load_state("load")
    violations = page.evaluate("window.__csp || []")
    problems.extend(f"{url}: CSP {v}" for v in violations)


@pytest.mark.parametrize("role", ["volunteer", "supervisor", "counsellor", "admin"])
def test_every_page_of_each_role_loads_without_csp_violations_or_errors(db, fresh_context, shot, live_server, role):
    office = Office()
    page = fresh_context().new_page()
    problems = watch(page)
    log_in(page, getattr(office, role))
    visit(page, "/", problems)
    shot(page, "home")
    links = page.locator("header nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert links, "the navigation has no links"
    pages = list(dict.fromkeys([*links, *office.extra_pages(role)]))
    for n, url in enumerate(pages):
        visit(page, url, problems)
        shot(page, re.sub(r"[^a-z0-9]+", "-", urlsplit(url).path.lower()).strip("-") or f"page{n}")
    # A boosted navigation (htmx swaps the page): htmx itself must run under the policy too.
    visit(page, "/", problems)
    page.locator("header nav a").first.click()
    page.wait_for_load_state("networkidle")
    problems.extend(f"boosted: CSP {v}" for v in page.evaluate("window.__csp || []"))
    assert page.evaluate("typeof htmx") == "object", "htmx did not load"
    assert not problems, "\n".join(problems)


def _notes(member_id) -> int:
    _db.session.rollback()  # a new snapshot: the live server wrote in its own transaction
    return _db.session.scalar(select(func.count()).select_from(Note).where(Note.member_id == member_id))


def test_an_htmx_form_with_an_expired_token_says_so_and_keeps_the_text(db, fresh_context, shot):
    office = Office()
    page = fresh_context().new_page()
    problems = watch(page)
    log_in(page, office.volunteer)
    page.goto(f"/members/{office.member.id}")
    text = "周六在西湖边见面，她对对方印象不错，想再约一次。"
    page.locator(NOTE_BOX).fill(text)
    # The page's token goes stale (as after a server restart with a new secret, or a very old tab).
    page.evaluate("""() => {
        document.querySelectorAll("input[name=csrf_token]").forEach(i => i.value = "stale");
        document.body.setAttribute("hx-headers", '{"X-CSRFToken": "stale"}');
    }""")
    page.locator("#notes form.note-form button[type=submit]").click()
    expect(page.locator("#flashes .flash-error")).to_contain_text("expired")
    expect(page.locator(NOTE_BOX)).to_have_value(text)
    shot(page, "expired-token-message")
    assert _notes(office.member.id) == 1
    # The new token came with the refusal: sending again works, without retyping.
    page.locator("#notes form.note-form button[type=submit]").click()
    expect(page.locator("#notes .timeline")).to_contain_text(text)
    assert _notes(office.member.id) == 2
    shot(page, "sent-again")
    assert not [p for p in problems if "CSP" in p or "page error" in p], problems


def test_an_htmx_form_after_the_session_ended_says_so_and_keeps_the_text(db, fresh_context, shot):
    office = Office()
    context = fresh_context()
    page = context.new_page()
    problems = watch(page)
    log_in(page, office.volunteer)
    page.goto(f"/members/{office.member.id}")
    text = "她说下周想去看展览，请帮忙留意合适的活动。"
    page.locator(NOTE_BOX).fill(text)
    context.clear_cookies()  # the session is gone (signed out elsewhere, timed out)
    page.locator("#notes form.note-form button[type=submit]").click()
    flash = page.locator("#flashes .flash-error")
    expect(flash).to_be_visible()
    expect(page.locator(NOTE_BOX)).to_have_value(text)  # not replaced by the login page
    expect(page).to_have_url(re.compile(rf"/members/{office.member.id}$"))
    shot(page, "session-ended-message")
    assert _notes(office.member.id) == 1
    assert not [p for p in problems if "CSP" in p or "page error" in p], problems
