"""Name badges: a number and the given name only (no surname, nothing else about the member)."""

from flask import render_template

from crm.cards.pdf import html_to_pdf
from crm.cards.services import printable_text

#: Two-character surnames, so that 欧阳娜娜's badge reads 娜娜, not 阳娜娜.
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "夏侯", "令狐", "长孙",
                     "宇文", "司徒", "轩辕", "端木", "独孤", "南宫", "西门", "澹台")


def given_name(name: str) -> str:
    name = (name or "").strip()
    if "·" in name or name.isascii():  # Anna·李 / Latin names: the first word
        return name.split("·")[0].split()[0] if name else ""
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[2:]
    return name[1:] if len(name) > 1 else name


def render_badges(event, registrations) -> bytes:
    badges = [(r.badge_number, printable_text(given_name(r.member.name))) for r in registrations]
    return html_to_pdf(render_template("events/badges.html", event=event, badges=badges))
