"""The confidential notes reach their author and nobody else, on any page, fragment, search or log.

Every GET route of the app (read from the URL map, so routes added later are crawled too) is
requested as each role, with its URL arguments filled from the seeded records, as a full page and
as an htmx fragment. A marker written into the notes must appear only in the author's responses.
"""

import io
import zipfile

import pytest
from flask import url_for
from werkzeug.routing import IntegerConverter

from crm.clock import today
from crm.extensions import db
from crm.followups.models import FollowUp
from crm.pairings.models import Pairing
from tests.counselling.helpers import MARKER
from tests.factories import make_member

ROLES = ["owner", "other_volunteer", "supervisor", "admin", "other_counsellor", "far_counsellor",
         "far_supervisor", "author"]
OWN_DOMAIN = ("counselling.", "members.", "audit.", "auth.")


def _url_values(app, world, rule, records):
    known = {"member_id": world.member.id, "note_id": world.note.id, "referral_id": world.referral.id,
             "alert_id": world.alert.id, "session_id": world.session.id, **records}
    values = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        values[name] = known.get(name, 1 if isinstance(converter, IntegerConverter) else "x")
    return values


def _crawl_urls(app, world, records):
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static" or "GET" not in (rule.methods or ()):
                continue
            urls.append((rule.endpoint, url_for(rule.endpoint, **_url_values(app, world, rule, records))))
    # Parts of the marker: a search that matched the notes would print all of it (the box echoes the query).
    urls += [("members.search", "/members/search?q=7f3c"), ("members.search", "/members/search?q=机密内容"),
             ("members.search", "/members/search?q=林")]
    return urls


def _text(response) -> str:
    """What a person could read in the response: the page, a PDF's text, or the files of an export."""
    data = response.get_data()
    if response.mimetype == "application/pdf":
        from pypdf import PdfReader
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    if data[:2] == b"PK":  # xlsx and other zipped exports
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return data.decode("utf-8", "replace")


@pytest.fixture
def records(world):
    partner = make_member(owner=world.other_volunteer, name="周明")
    low, high = Pairing.ordered_ids(world.member.id, partner.id)
    pairing = Pairing(member_low_id=low, member_high_id=high, proposed_by_id=world.owner.id)
    db.session.add(pairing)
    db.session.flush()
    followup = FollowUp(due_on=today(), assignee_id=world.author.id, member_id=world.member.id, title="咨询")
    db.session.add(followup)
    db.session.commit()
    return {"pairing_id": pairing.id, "followup_id": followup.id}


@pytest.mark.parametrize("role", ROLES)
def test_the_notes_marker_appears_only_in_the_authors_pages(app, world, records, sign_in, role):
    client = sign_in(world.user(role))
    seen_in, crashed, summary_in = [], [], set()
    for endpoint, url in _crawl_urls(app, world, records):
        for headers in ({}, {"HX-Request": "true"}):
            try:
                response = client.get(url, headers=headers)
            except Exception as error:  # noqa: BLE001 - another domain's unfinished route must not hide a leak
                if endpoint.startswith(OWN_DOMAIN):
                    raise
                crashed.append((url, repr(error)))
                db.session.rollback()
                continue
            body = _text(response)
            if MARKER in body:
                seen_in.append(url)
            if "会员愿意继续沟通" in body:  # the shareable summary: proof the crawl reached the records
                summary_in.add(endpoint)
    if role in ("owner", "supervisor", "admin", "author"):
        assert {"counselling.referral", "members.detail"} & summary_in
    if role == "author":
        assert f"/counselling/referrals/{world.referral.id}" in seen_in
    else:
        assert seen_in == [], f"{role} saw the confidential notes at {seen_in}"


def test_the_marker_is_in_no_audit_entry_after_the_author_read_the_notes(world, sign_in):
    author = sign_in(world.author)
    assert MARKER in author.get(f"/counselling/referrals/{world.referral.id}").get_data(as_text=True)
    log = sign_in(world.admin).get("/audit/").get_data(as_text=True)
    assert "counselling.notes_read" in log and MARKER not in log
