"""Optimistic locking on every editable record (issue 9, data integrity): two people edit the same record;
the one who saves second gets the conflict page (409) with their version beside the saved one, nothing of
theirs is written, and saving again from that page re-applies their version over the saved one.

Member edits: tests/integrity/test_conflicts.py. Here: note corrections, events, users (admin), follow-ups.
"""

import html
import re
from datetime import timedelta

from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.auth.models import Role, User
from crm.clock import today
from crm.events.models import Event
from crm.followups.models import FollowUp, FollowUpKind
from crm.followups.services import complete_followup, create_followup
from crm.members.models import Note, NoteRevision
from tests import dbstate, factories
from tests.conftest import csrf_token
from tests.events.helpers import at_the_door, before_start, make_event


def _form_values(page: str) -> dict:
    """name -> value of the text inputs, hidden inputs, textareas and selected options of a page's form."""
    values = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and 'type="checkbox"' not in tag and 'type="submit"' not in tag:
            values[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        values[name] = html.unescape(text).strip()
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.findall(r'<option[^>]*value="([^"]*)"[^>]*selected', body)
        values[name] = chosen if 'multiple' in page.split(f'name="{name}"')[0][-200:] else (chosen[0] if chosen else "")
    return values


def _versions_side_by_side(page: str, yours: str, saved: str) -> bool:
    return bool(re.search(rf'<td class="yours">{re.escape(html.escape(yours))}</td>'
                          rf'<td class="saved">{re.escape(html.escape(saved))}</td>', page))


# --- Note corrections ------------------------------------------------------------------------------

def test_note_correction_conflict_shows_both_texts_and_reapplies(client, db, login_as, csrf):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer)
    note = factories.make_note(member, volunteer, body="原文：电话联系")
    db.session.commit()
    url, opened, note_id = f"/members/{member.id}/notes/{note.id}", str(note.version), note.id
    # Someone else corrects the note first (through the same service the view uses).
    theirs = db.session.get(Note, note_id)
    from crm.members.services import edit_note
    edit_note(theirs, by=volunteer, body="他们的更正")
    db.session.commit()
    db.session.remove()
    before = dbstate.contents()

    response = client.post(url, data={"body": "我的更正", "version": opened, "csrf_token": csrf()})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Your version" in page and "Saved version" in page
    assert _versions_side_by_side(page, "我的更正", "他们的更正")
    assert dbstate.contents() == before  # nothing of the second edit written
    current = str(db.session.get(Note, note_id).version)
    assert current != opened and f'name="version" type="hidden" value="{current}"' in page.replace(
        'type="hidden" name="version"', 'name="version" type="hidden"')
    db.session.remove()

    again = client.post(url, data={"body": "我的更正", "version": current, "csrf_token": csrf()})
    assert again.status_code == 302
    db.session.remove()
    assert db.session.get(Note, note_id).body == "我的更正"
    kept = db.session.scalars(select(NoteRevision.body).where(NoteRevision.note_id == note_id)).all()
    assert kept == ["原文：电话联系", "他们的更正"]  # both earlier texts kept


# --- Events -------------------------------------------------------------------------------------

def test_event_edit_conflict_shows_both_versions_and_reapplies(client, db, login_as):
    supervisor = login_as("supervisor")
    event = make_event(supervisor.branch, capacity=20)
    db.session.commit()
    event_id = event.id
    mine = _form_values(client.get(f"/events/{event_id}/edit").get_data(as_text=True))
    assert mine["version"] == str(event.version)
    db.session.remove()
    theirs = db.session.get(Event, event_id)  # another organiser saves meanwhile
    theirs.place = "工人文化宫"
    db.session.commit()
    db.session.remove()
    before = dbstate.contents()

    mine.update(place="湖滨公园", capacity="30")
    response = client.post(f"/events/{event_id}/edit", data=mine)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert _versions_side_by_side(page, "湖滨公园", "工人文化宫") and _versions_side_by_side(page, "30", "20")
    assert dbstate.contents() == before
    reopened = _form_values(page)
    assert reopened["place"] == "湖滨公园" and reopened["version"] == str(db.session.get(Event, event_id).version)
    db.session.remove()

    again = client.post(f"/events/{event_id}/edit", data=reopened)
    assert again.status_code == 302
    db.session.remove()
    saved = db.session.get(Event, event_id)
    assert (saved.place, saved.capacity) == ("湖滨公园", 30)


# --- Users (administration) ---------------------------------------------------------------------

def _confirm(client):
    response = client.post("/confirm-password", data={"password": factories.PASSWORD,
                                                      "csrf_token": csrf_token(client)})
    assert response.status_code == 302


def test_user_edit_conflict_shows_both_versions_and_reapplies(app, client, db, login_as):
    login_as("admin")
    _confirm(client)
    target = factories.make_user("volunteer", display_name="李老师")
    db.session.commit()
    target_id = target.id
    mine = {"display_name": "李红", "branch": str(target.branch_id), "roles": ["VOLUNTEER", "SUPERVISOR"],
            "version": str(target.version), "csrf_token": csrf_token(client)}
    # Another administrator saves first (their own session, the same view).
    other = app.test_client()
    other_admin = factories.make_user("admin")
    db.session.commit()
    assert other.post("/login", data={"username": other_admin.username, "password": factories.PASSWORD,
                                      "csrf_token": csrf_token(other)}).status_code == 302
    _confirm(other)
    first = other.post(f"/admin/users/{target_id}", data={**mine, "display_name": "李梅", "roles": ["VOLUNTEER"],
                                                          "csrf_token": csrf_token(other)})
    assert first.status_code == 302
    db.session.remove()
    before = dbstate.contents()

    response = client.post(f"/admin/users/{target_id}", data=mine)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert _versions_side_by_side(page, "李红", "李梅")
    assert dbstate.contents() == before
    current = db.session.get(User, target_id)
    assert (current.display_name, current.roles) == ("李梅", Role.VOLUNTEER)
    assert _form_values(page)["version"] == str(current.version) != mine["version"]
    db.session.remove()

    again = client.post(f"/admin/users/{target_id}", data={**mine, "version": _form_values(page)["version"]})
    assert again.status_code == 302
    db.session.remove()
    saved = db.session.get(User, target_id)
    assert (saved.display_name, saved.roles) == ("李红", Role.VOLUNTEER | Role.SUPERVISOR)


def test_logins_do_not_make_an_admin_edit_stale(app, client, db, login_as):
    login_as("admin")
    _confirm(client)
    target = factories.make_user("volunteer")
    db.session.commit()
    version = str(target.version)
    elsewhere = app.test_client()  # the user signs in while the administrator has the form open
    assert elsewhere.post("/login", data={"username": target.username, "password": factories.PASSWORD,
                                          "csrf_token": csrf_token(elsewhere)}).status_code == 302
    response = client.post(f"/admin/users/{target.id}", data={
        "display_name": "新名字", "branch": str(target.branch_id), "roles": ["VOLUNTEER"], "version": version,
        "csrf_token": csrf_token(client)})
    assert response.status_code == 302


# --- Follow-ups ---------------------------------------------------------------------------------

def _followup(volunteer, member):
    followup = create_followup(assignee=volunteer, member=member, due_on=today() + timedelta(days=1),
                               kind=FollowUpKind.OTHER, by=volunteer, title="回访")
    return followup


def test_followup_completion_conflict_shows_both_outcomes_and_reapplies(client, db, login_as, csrf):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer)
    followup = _followup(volunteer, member)
    db.session.commit()
    followup_id, opened = followup.id, str(followup.version)
    complete_followup(db.session.get(FollowUp, followup_id), by=volunteer, outcome="已电话联系，约周六见面")
    db.session.commit()  # a colleague completed it first
    db.session.remove()
    before = dbstate.contents()

    response = client.post(f"/followups/{followup_id}/complete",
                           data={"outcome": "发了微信，等回复", "version": opened, "csrf_token": csrf()})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert _versions_side_by_side(page, "发了微信，等回复", "已电话联系，约周六见面")
    assert dbstate.contents() == before
    reopened = _form_values(page)
    current = db.session.get(FollowUp, followup_id).version
    assert reopened["outcome"] == "发了微信，等回复" and reopened["version"] == str(current)
    db.session.remove()

    again = client.post(f"/followups/{followup_id}/complete",
                        data={"outcome": reopened["outcome"], "version": reopened["version"], "csrf_token": csrf()})
    assert again.status_code == 302
    db.session.remove()
    assert db.session.get(FollowUp, followup_id).outcome == "发了微信，等回复"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "followup.complete")) == 2
    # Not scheduled twice, not completed twice: a stale copy of the old row is still refused.
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 1


def test_followup_conflict_by_htmx_shows_in_the_row(client, db, login_as, csrf):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer)
    followup = _followup(volunteer, member)
    db.session.commit()
    complete_followup(followup, by=volunteer, outcome="对方已联系")
    db.session.commit()
    response = client.post(f"/followups/{followup.id}/complete", headers={"HX-Request": "true"},
                           data={"outcome": "我的结果", "version": "1", "csrf_token": csrf()})
    page = response.get_data(as_text=True)
    assert response.status_code == 422  # htmx swaps 422: the row itself shows both versions
    assert "<html" not in page and f'id="followup-{followup.id}"' in page
    assert _versions_side_by_side(page, "我的结果", "对方已联系")


# --- A volunteer's capacity (crm.stats; the same users row and version as the admin edit) ----------

def test_capacity_conflict_shows_both_numbers_and_reapplies(app, client, db, login_as, csrf):
    login_as("admin")
    volunteer = factories.make_user("volunteer", max_caseload=40)
    db.session.commit()
    volunteer_id = volunteer.id
    shown = _form_values(client.get(f"/stats/capacity/{volunteer_id}").get_data(as_text=True))
    assert shown["version"] == "1" and shown["max_caseload"] == "40"
    first = client.post(f"/stats/capacity/{volunteer_id}", data={**shown, "max_caseload": "50"})
    assert first.status_code == 302  # someone saved 50 meanwhile
    db.session.remove()
    before = dbstate.contents()

    response = client.post(f"/stats/capacity/{volunteer_id}", data={**shown, "max_caseload": "25"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and _versions_side_by_side(page, "25", "50")
    assert dbstate.contents() == before
    reopened = _form_values(page)
    assert reopened["max_caseload"] == "25" and reopened["version"] == "2"
    assert client.post(f"/stats/capacity/{volunteer_id}", data=reopened).status_code == 302
    db.session.remove()
    assert db.session.get(User, volunteer_id).max_caseload == 25


# --- An attendee's choices at an event (crm.events; EventRegistration.choices_version) --------------

def _signed_in(app, user):
    """A second browser: its own test client and session, signed in as ``user``."""
    other = app.test_client()
    response = other.post("/login", data={"username": user.username, "password": factories.PASSWORD,
                                          "csrf_token": csrf_token(other)})
    assert response.status_code == 302
    return other


def test_choices_conflict_shows_both_versions_and_reapplies(app, client, db, login_as):
    from crm.clock import now_utc
    from crm.events import services as events
    from crm.events.models import EventChoice, EventRegistration
    from crm.members.models import Gender

    supervisor = factories.make_user("supervisor")
    volunteer = login_as(factories.make_user("volunteer", branch=supervisor.branch))
    event = make_event(supervisor.branch, starts_at=now_utc() - timedelta(hours=3),
                       ends_at=now_utc() - timedelta(hours=1))
    people = [factories.make_member(owner=volunteer, name=name, gender=gender) for name, gender in
              (("李安", Gender.FEMALE), ("赵凯", Gender.MALE), ("钱丹", Gender.MALE))]
    with before_start(event):
        regs = [events.register(event, member, volunteer) for member in people]
    with at_the_door(event):
        for reg in regs:
            events.check_in(reg, supervisor)
    events.mark_held(event, supervisor)
    db.session.commit()
    url = f"/events/{event.id}/choices/{regs[0].id}"
    carl, dan, ann_id, dan_id = str(regs[1].badge_number), str(regs[2].badge_number), people[0].id, people[2].id
    reg_id = regs[0].id
    other = _signed_in(app, supervisor)  # two people open Ann's choice card at once
    mine = _form_values(client.get(url).get_data(as_text=True))
    theirs = _form_values(other.get(url).get_data(as_text=True))
    assert mine["version"] == theirs["version"] == "1" and mine["badges"] == ""
    assert other.post(url, data={**theirs, "badges": carl}).status_code == 302  # the supervisor saves first
    db.session.remove()
    before = dbstate.contents()

    response = client.post(url, data={**mine, "badges": dan})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Your version" in page and _versions_side_by_side(page, dan, carl)
    assert dbstate.contents() == before  # nothing of the second save written
    reopened = _form_values(page)
    assert reopened["badges"] == dan and reopened["version"] == "2"
    assert client.post(url, data={**mine, "badges": ""}).status_code == 409  # a stale save stays refused

    assert client.post(url, data=reopened).status_code == 302  # saving again re-applies
    db.session.remove()
    chosen = db.session.scalars(select(EventChoice.chosen_id).where(EventChoice.chooser_id == ann_id)).all()
    assert chosen == [dan_id]
    assert db.session.get(EventRegistration, reg_id).choices_version == 3


def test_choices_save_without_a_version_writes_nothing(client, db, login_as):
    from crm.clock import now_utc
    from crm.events import services as events
    from crm.members.models import Gender

    volunteer = login_as("volunteer")
    event = make_event(volunteer.branch, starts_at=now_utc() - timedelta(hours=3),
                       ends_at=now_utc() - timedelta(hours=1))
    with before_start(event):
        regs = [events.register(event, factories.make_member(owner=volunteer, gender=g), volunteer)
                for g in (Gender.FEMALE, Gender.MALE)]
    with at_the_door(event):
        for reg in regs:
            events.check_in(reg, volunteer)
    events.mark_held(event, factories.make_user("supervisor", branch=volunteer.branch))
    db.session.commit()
    url, badge = f"/events/{event.id}/choices/{regs[0].id}", str(regs[1].badge_number)
    page = client.get(url).get_data(as_text=True)
    data = {k: v for k, v in _form_values(page).items() if k != "version"}
    db.session.remove()
    before = dbstate.contents()
    assert client.post(url, data={**data, "badges": badge}).status_code == 409
    assert dbstate.contents() == before


# --- Matching weights per branch (crm.matching; MatchingSettings.version) ---------------------------

def _weights_form(branch_id, page: str) -> dict:
    return {**_form_values(page), "branch_id": str(branch_id)}  # (the branch select: option selected first)


def test_weights_conflict_shows_both_versions_and_reapplies(app, client, db, login_as):
    from crm.matching import service as matching
    from crm.matching.models import MatchingSettings

    matching.reset()
    admin = login_as("admin")
    branch_id = admin.branch_id
    other = _signed_in(app, factories.make_user("admin", branch=admin.branch))
    url = f"/matching/weights?branch_id={branch_id}"
    mine = _weights_form(branch_id, client.get(url).get_data(as_text=True))
    theirs = _weights_form(branch_id, other.get(url).get_data(as_text=True))
    assert mine["version"] == theirs["version"] == "0"  # never set: the defaults
    assert other.post("/matching/weights", data={**theirs, "interests": "7"}).status_code == 302
    db.session.remove()
    before = dbstate.contents()

    response = client.post("/matching/weights", data={**mine, "interests": "2", "distance": "9"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert _versions_side_by_side(page, "2.0", "7.0")
    assert _versions_side_by_side(page, "9.0", mine["distance"])  # the default, as the page showed it
    assert dbstate.contents() == before  # nothing of the second save written
    reopened = _weights_form(branch_id, page)
    assert reopened["interests"] == "2" and reopened["version"] == "1"  # their typed value kept
    # The other admin saves once more: the reopened form is stale again and is refused again.
    again = _weights_form(branch_id, other.get(url).get_data(as_text=True))
    assert other.post("/matching/weights", data={**again, "soft": "3"}).status_code == 302
    assert client.post("/matching/weights", data=reopened).status_code == 409
    db.session.remove()

    reopened = _weights_form(branch_id, client.post("/matching/weights", data=reopened).get_data(as_text=True))
    assert reopened["version"] == "2"
    assert client.post("/matching/weights", data=reopened).status_code == 302  # saving again re-applies
    db.session.remove()
    saved = db.session.scalar(select(MatchingSettings).where(MatchingSettings.branch_id == branch_id))
    assert (saved.weights["interests"], saved.weights["distance"], saved.version) == (2.0, 9.0, 3)
    matching.reset()
