"""Optimistic locking: a save based on an old version shows both versions side by side and lets the
user re-apply theirs; nothing is overwritten silently."""

import re

from crm.members.models import Member
from tests import factories


def test_member_edit_conflict_shows_both_versions_and_reapplies(client, db, login_as, csrf):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer, name="王悦")
    db.session.commit()
    member_id, opened_version = member.id, member.version
    client.post(f"/members/{member_id}/edit", data=factories.member_form_data(
        name="王悦", phone=member.phone, id_number="", version=str(opened_version), csrf_token=csrf()))
    db.session.remove()
    saved_version = db.session.get(Member, member_id).version
    # Someone else saves meanwhile: the height becomes 170.
    theirs = db.session.get(Member, member_id)
    theirs.height_cm = 170
    db.session.commit()
    phone = theirs.phone
    db.session.remove()

    mine = factories.member_form_data(name="王悦", phone=phone, id_number="", height_cm="158",
                                      version=str(saved_version), csrf_token=csrf())
    response = client.post(f"/members/{member_id}/edit", data=mine)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Your version" in page and "Saved version" in page
    assert re.search(r'<td class="yours">158</td><td class="saved">170</td>', page)
    db.session.remove()
    assert db.session.get(Member, member_id).height_cm == 170  # nothing overwritten
    current = db.session.get(Member, member_id).version
    assert f'value="{current}"' in page  # the form now carries the saved version: saving again re-applies
    db.session.remove()

    again = client.post(f"/members/{member_id}/edit", data={**mine, "version": str(current)})
    assert again.status_code == 302
    db.session.remove()
    assert db.session.get(Member, member_id).height_cm == 158
