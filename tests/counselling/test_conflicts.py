"""Optimistic locking of referrals: two people assign (or one closes while another reassigns) the same
referral; the second sees their version beside the saved one (409), nothing of theirs is written, and saving
again from that page re-applies theirs. (The other records: tests/integrity/test_edit_conflicts.py.)"""

import re

from crm.counselling.models import Referral, ReferralStatus
from crm.extensions import db
from tests import dbstate
from tests.factories import make_user


def _version_in(page: str) -> str:
    return re.search(r'id="version" name="version" type="hidden" value="(\d+)"', page).group(1)


def _side_by_side(page: str, yours: str, saved: str) -> bool:
    return f'<td class="yours">{yours}</td><td class="saved">{saved}</td>' in page


def test_two_supervisors_assign_the_same_referral(world, sign_in):
    second_supervisor = make_user("supervisor", branch=world.branch, display_name="何主管")
    db.session.commit()
    first, second = sign_in(world.supervisor), sign_in(second_supervisor)
    url, referral_id = f"/counselling/referrals/{world.queued.id}", world.queued.id
    author_id, other_id = world.author.id, world.other_counsellor.id
    shown = _version_in(second.get(url).get_data(as_text=True))
    assert first.post(f"{url}/assign", data={"counsellor_id": str(author_id), "version": shown,
                                             "csrf_token": first.token}).status_code == 302
    db.session.remove()
    before = dbstate.contents()

    mine = {"counsellor_id": str(other_id), "version": shown, "csrf_token": second.token}
    response = second.post(f"{url}/assign", data=mine)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Your version" in page and _side_by_side(page, "郑咨询", "孙咨询")
    assert dbstate.contents() == before
    current = _version_in(page)
    assert current != shown and current == str(db.session.get(Referral, referral_id).version)
    db.session.remove()

    again = second.post(f"{url}/assign", data={**mine, "version": current})
    assert again.status_code == 302
    db.session.remove()
    assert db.session.get(Referral, referral_id).counsellor_id == other_id


def test_closing_a_referral_reassigned_meanwhile(world, sign_in):
    second_supervisor = make_user("supervisor", branch=world.branch)
    db.session.commit()
    closer, assigner = sign_in(world.supervisor), sign_in(second_supervisor)
    url, referral_id = f"/counselling/referrals/{world.referral.id}", world.referral.id
    other_id = world.other_counsellor.id
    shown = _version_in(closer.get(url).get_data(as_text=True))
    assert assigner.post(f"{url}/assign", data={"counsellor_id": str(other_id), "version": shown,
                                                "csrf_token": assigner.token}).status_code == 302
    db.session.remove()
    before = dbstate.contents()

    mine = {"outcome": "会员表示不再需要咨询", "version": shown, "csrf_token": closer.token}
    response = closer.post(f"{url}/close", data=mine)
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and _side_by_side(page, "会员表示不再需要咨询", "—")
    assert "会员表示不再需要咨询</textarea>" in page  # the text typed is kept in the form
    assert dbstate.contents() == before
    db.session.remove()

    again = closer.post(f"{url}/close", data={**mine, "version": _version_in(page), "confirmed": "1"})
    assert again.status_code == 302
    db.session.remove()
    saved = db.session.get(Referral, referral_id)
    assert saved.status is ReferralStatus.CLOSED and saved.outcome == "会员表示不再需要咨询"
