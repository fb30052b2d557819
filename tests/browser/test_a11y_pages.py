"""Issue 11: the main pages of every role meet WCAG 2.1 AA as axe-core checks it (no serious or critical
violation), on a desktop and on a phone, in Chinese (the default) and in English; and the helper itself
catches a violation (so a sweep that checks nothing cannot pass)."""


import pytest

from tests.browser import office
from tests.browser.axe import ANY_IMPACT, STRUCTURE, assert_accessible, describe, violations
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


class Office(office.Office):
    """The shared office (tests/browser/office.py) and the pages this sweep visits."""

    def pages(self, role: str) -> list[str]:
        m, p, r, e = self.member.id, self.pairing.id, self.referral.id, self.event.id
        return {
            "volunteer": ["/", "/members/search?q=李", f"/members/{m}", f"/members/{m}/edit", "/members/new",
                          f"/members/{m}/suggestions", "/pairings/board", f"/pairings/{p}", "/followups/",
                          "/events/", f"/events/{e}", f"/events/{e}/door"],
            "counsellor": ["/", f"/counselling/referrals/{r}", f"/counselling/referrals/{r}/sessions/new",
                           f"/counselling/referrals/{r}/profile"],
            "supervisor": ["/", "/members/team", f"/members/{m}/reassign", "/stats/dashboard", "/stats/",
                           "/counselling/alerts", "/intake/", "/pairings/board"],
            "admin": ["/", "/admin/users", "/admin/users/new", f"/admin/users/{self.volunteer.id}", "/audit/",
                      "/matching/weights"],
        }[role]


def check(page, what: str) -> list[str]:
    """WCAG A/AA (serious, critical) and the structure rules (any impact) of the page as it is now."""
    failures = []
    try:
        assert_accessible(page, what)
    except AssertionError as failure:
        failures.append(str(failure))
    structure = violations(page, impacts=ANY_IMPACT, rules=STRUCTURE)
    if structure:
        failures.append(f"{what} ({page.url}): page structure\n{describe(structure)}")
    return failures


def sweep(page, urls: list[str], label: str) -> list[str]:
    """Every page checked, all failures collected (one run shows everything there is to fix)."""
    failures = []
    for url in urls:
        response = page.goto(url)
        if response.status >= 500:
            failures.append(f"{label} {url}: HTTP {response.status}")
            continue
        failures += check(page, f"{label} {url}")
    return failures


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
@pytest.mark.parametrize("role", ["volunteer", "counsellor", "supervisor", "admin"])
def test_main_pages_of_each_role_have_no_serious_accessibility_violations(db, chinese_by_default, fresh_context,
                                                                          role, phone):
    office = Office()
    page = fresh_context(phone=phone).new_page()
    log_in(page, getattr(office, role))
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    failures = sweep(page, office.pages(role), f"{role}{' (phone)' if phone else ''}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_public_and_error_pages_have_no_serious_accessibility_violations(db, chinese_by_default, fresh_context,
                                                                         phone):
    office = Office()
    page = fresh_context(phone=phone).new_page()
    failures = sweep(page, ["/login", "/apply", f"/events/join/{office.event.public_token}", "/no-such-page"],
                     "anonymous")
    log_in(page, office.volunteer)
    response = page.goto("/admin/users")
    assert response.status == 403
    failures += sweep(page, ["/admin/users"], "volunteer 403")
    failures += sweep(page, ["/members/999999"], "volunteer 404")
    assert not failures, "\n\n".join(failures)


def test_main_pages_in_english_have_no_serious_accessibility_violations(db, fresh_context):
    """English (the tests' default language, a user's choice in production)."""
    office = Office()
    page = fresh_context(locale="en-GB").new_page()
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "en"
    log_in(page, office.supervisor)
    assert page.locator("html").get_attribute("lang") == "en"
    failures = sweep(page, ["/login", *office.pages("supervisor"), f"/members/{office.member.id}",
                            f"/members/{office.member.id}/edit"], "supervisor (English)")
    assert not failures, "\n\n".join(failures)


def test_the_helper_fails_on_a_serious_violation_and_names_it(db, fresh_context):
    office = Office()
    page = fresh_context().new_page()
    log_in(page, office.volunteer)
    page.goto(f"/members/{office.member.id}")
    assert_accessible(page, "case file as served")
    # An unlabelled text box and a nameless button, as a careless template would add them.
    page.evaluate("""() => {
      const main = document.querySelector("main");
      const box = document.createElement("input"); box.id = "careless-box"; main.append(box);
      const button = document.createElement("button"); button.id = "careless-button"; main.append(button);
    }""")
    found = {v["id"]: v for v in violations(page)}
    assert "label" in found and "button-name" in found, found.keys()
    assert any("#careless-box" in n["target"] for n in found["label"]["nodes"])
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, "careless case file")
    assert "careless case file" in str(failure.value) and "#careless-button" in str(failure.value)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_forms_showing_their_errors_stay_accessible(db, chinese_by_default, fresh_context, phone):
    """Refused forms (the member form, the login, the public application): each error is tied to its field
    (aria-invalid, aria-describedby naming the message), and the page still passes."""
    office = Office()
    page = fresh_context(phone=phone).new_page()
    failures = []
    page.goto("/apply")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    failures += check(page, "anonymous /apply refused")
    page.goto("/login")
    page.locator("input[name=username]").fill(office.volunteer.username)
    page.locator("input[name=password]").fill("not the password")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    failures += check(page, "login refused")
    log_in(page, office.volunteer)
    page.goto("/members/new")
    page.locator("main form button[type=submit]").last.click()
    invalid = page.locator("[aria-invalid=true]")
    invalid.first.wait_for()  # the refused form comes back through htmx (422), no page load
    assert invalid.count() >= 3
    for n in range(invalid.count()):
        field = invalid.nth(n)
        described = (field.get_attribute("aria-describedby") or "").split()
        assert any(page.locator(f"#{ref}.error").count() == 1 for ref in described), field.evaluate("e => e.outerHTML")
    failures += check(page, "volunteer /members/new refused")
    assert not failures, "\n\n".join(failures)
