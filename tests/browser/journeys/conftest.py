"""The role journeys' harness: one page per journey, a screenshot per step in a known folder, and at
every step the checks a person would notice: the page is accessible and all in Chinese.

Screenshots: test-artifacts/journeys/<role>-<desktop|phone>/<nn>-<step>.png (CI keeps test-artifacts/).
"""

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser.axe import assert_accessible
from tests.browser.conftest import ROOT, TAKE_SCREENSHOTS, full_page_screenshot, log_in
from tests.test_translations import LATIN_IN_CHINESE, _visible_text

JOURNEYS = ROOT / "test-artifacts" / "journeys"
VIEWPORTS = pytest.mark.parametrize("viewport", ["desktop", "phone"])
LANGUAGE_NAMES = ("English", "中文")  # the language switch names each language in itself
# File formats keep their Latin names in Chinese too (下载 Excel（XLSX）).
LATIN_NAMES = LATIN_IN_CHINESE | {"Excel", "XLSX", "CSV", "JSON"}
REFERENCE = re.compile(r"\bQQ-\d+")  # an introduction's reference (crm.pairings.models), the same in every language
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")


def english_on(html: str, data: set[str]) -> set[str]:
    """The Latin words of the page's visible text once the records' own words (names, places) are taken out."""
    text = REFERENCE.sub(" ", _visible_text(html, data))
    return {w for w in LATIN_WORD.findall(text) if w not in LATIN_NAMES}


@dataclass
class Journey:
    """One person's journey: `page` in their browser; `step(name)` after each thing they do."""

    page: object
    folder: Path
    data: set[str] = field(default_factory=set)
    count: int = 0

    def go(self, href: str):
        """Follow the main navigation's link to ``href``, opening the menu first where it is folded (phones)."""
        menu = self.page.locator("details.menu > summary")
        link = self.page.locator(f"nav a[href='{href}']").first
        if not link.is_visible() and menu.is_visible():
            menu.click()
        link.click()
        self.page.wait_for_url(f"**{href}*")

    def step(self, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        self.page.wait_for_load_state("load")
        full_page_screenshot(self.page, path)
        english = english_on(self.page.content(), self.data)
        assert not english, f"step {name}: English on a Chinese page: {sorted(english)}"
        assert_accessible(self.page, f"{self.folder.name} {name}")
        return path


def record_words() -> set[str]:
    """The records' own words (names, contacts, places): data, not interface text, in any language."""
    from sqlalchemy import select

    from crm.auth.models import Branch, User
    from crm.extensions import db
    from crm.members.models import Member
    from crm.members.vocab import CITIES

    words = {*CITIES, *(d for districts in CITIES.values() for d in districts)}
    for m in db.session.scalars(select(Member)):
        words |= {m.name, m.phone, m.wechat_id, m.employer, m.work_city, m.work_district, m.home_city,
                  m.home_district, m.self_intro}
    for u in db.session.scalars(select(User)):
        words |= {u.display_name, u.username}
    for b in db.session.scalars(select(Branch)):
        words |= {b.name, b.city}
    return {w for w in words if w}


@pytest.fixture
def journey(chinese_by_default, fresh_context, request):
    """journey(role, user, data=()) -> a Journey of ``user`` signed in through the login form, in Chinese,
    on the viewport of the test's ``viewport`` parameter; its screenshots replace the last run's
    (unless SCREENSHOTS=off).
    ``data``: words of the records the journey will create (the ones already stored are added here)."""

    def start(role: str, user, data=()) -> Journey:
        viewport = request.node.callspec.params["viewport"]
        folder = JOURNEYS / f"{role}-{viewport}"
        if TAKE_SCREENSHOTS:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        page = fresh_context(phone=viewport == "phone").new_page()
        log_in(page, user)
        return Journey(page, folder, {*data, *LANGUAGE_NAMES, *record_words()})

    return start
