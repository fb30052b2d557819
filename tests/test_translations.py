"""The Chinese catalogue is complete, and pages speak one language: Chinese by default, English after switching."""

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from crm.auth.models import Role
from crm.members.vocab import CITIES
from tests import factories

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "crm/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]")


def _extract(tmp_path):
    """The msgids in the code today, extracted as `flask translate update` does (babel.cfg plus the lazy keywords)."""
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "--no-location", "-o", str(pot), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        return read_po(f)


def test_every_message_in_the_code_has_a_chinese_translation(tmp_path):
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    missing, fuzzy, empty, placeholders = [], [], [], []
    for message in _extract(tmp_path):
        if not message.id:
            continue
        entry = catalogue.get(message.id)
        if entry is None:
            missing.append(message.id)
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy:
            fuzzy.append(message.id)
        if not all(strings):
            empty.append(message.id)
        source = message.id[-1] if isinstance(message.id, tuple) else message.id
        if any(sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(s)) for s in strings if s):
            placeholders.append(message.id)
    hint = "run `flask translate update`, translate, then `make translations`"
    assert not missing, f"not in the catalogue ({hint}): {missing}"
    assert not empty, f"untranslated: {empty}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    assert not placeholders, f"placeholders differ from the English: {placeholders}"


class _VisibleText(HTMLParser):
    """The text a person sees (or hears from a screen reader): text nodes and the visible attributes."""

    ATTRIBUTES = {"placeholder", "title", "aria-label", "alt", "data-label"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attrs = dict(attrs)
        self.parts += [v for k, v in attrs.items() if k in self.ATTRIBUTES and v]
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data)


def _visible_text(html, data):
    parser = _VisibleText()
    parser.feed(html)
    text = "\n".join(parser.parts)
    for value in sorted(data, key=len, reverse=True):  # the records' own words are not interface text
        text = text.replace(value, " ")
    return text


# Latin words that are Chinese interface text too.
LATIN_IN_CHINESE = {"PDF", "A6", "KTV", "IT", "ID", "zhangwei", "zw"}  # the last two: pinyin search examples
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")  # ideographs and full-width punctuation


@pytest.fixture
def world(db, login_as):
    user = login_as(factories.make_user(Role.VOLUNTEER | Role.SUPERVISOR | Role.COUNSELLOR | Role.ADMIN))
    member = factories.make_member(owner=user)
    factories.make_note(member, user)
    db.session.commit()
    data = {member.name, member.phone, member.wechat_id, member.employer, member.work_city, member.work_district,
            member.home_city, member.home_district, user.display_name, user.username, user.branch.name,
            user.branch.city, "电话回访", "中文", "English", "鹊桥", "张伟"}  # the brand, and a search example
    data |= set(CITIES) | {d for districts in CITIES.values() for d in districts}  # places are data in every language
    pages = ["/members/", f"/members/{member.id}", f"/members/{member.id}/edit", "/members/team",
             f"/members/{member.id}/suggestions", "/pairings/board", "/pairings/inbox", "/followups/",
             "/counselling/"]  # not /audit/: it lists action codes (member.view) as they are stored
    return pages, data


def test_pages_are_chinese_by_default_and_english_after_switching(client, world, csrf, chinese_by_default):
    pages, data = world
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = _visible_text(response.get_data(as_text=True), data)
        latin = {w for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", text) if w not in LATIN_IN_CHINESE}
        assert not latin, f"{url} shows English in Chinese mode: {sorted(latin)}"

    response = client.post("/language", data={"lang": "en", "next": "/members/", "csrf_token": csrf()})
    assert response.status_code == 302
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        chinese = CJK.findall(_visible_text(html, data))
        assert not chinese, f"{url} shows Chinese in English mode: {chinese}"


def test_a_word_with_two_meanings_has_two_messages(client, db, login_as, chinese_by_default):
    """"Accepted" is a self-registration's status (已建档); the date a counsellor took a referral is "Taken on"
    (接手日期). One message for both had put a date heading among the intake queue's status tabs."""
    from tests.counselling.helpers import make_referral

    user = login_as(factories.make_user(Role.SUPERVISOR | Role.COUNSELLOR | Role.VOLUNTEER))
    make_referral(factories.make_member(owner=user, branch=user.branch), user, counsellor=user)
    db.session.commit()
    tabs = re.search(r'<nav class="tabs".*?</nav>', client.get("/intake/").get_data(as_text=True), re.S).group(0)
    assert re.findall(r">([^<>]+)</a>", tabs) == ["待处理", "已建档", "已退回"]
    caseload = client.get("/counselling/").get_data(as_text=True)
    assert "<th>接手日期</th>" in caseload and 'data-label="接手日期"' in caseload
