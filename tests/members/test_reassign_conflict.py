"""Two supervisors reassigning one case at once: the second sees who has it now instead of moving it unseen."""

from crm.extensions import db
from crm.members.models import Assignment, Member
from tests import dbstate
from tests.factories import make_member, make_user


def test_a_reassignment_from_a_page_opened_before_another_is_refused_and_says_so(client, login_as, csrf):
    supervisor = login_as("supervisor")
    first, second, third = (make_user("volunteer", branch=supervisor.branch, display_name=name)
                            for name in ("赵一", "钱二", "孙三"))
    member = make_member(owner=first)
    db.session.commit()
    form = client.get(f"/members/{member.id}/reassign").get_data(as_text=True)
    assert f'name="from_owner" type="hidden" value="{first.id}"' in form

    member.owner_id = second.id  # another supervisor's reassignment, committed meanwhile
    db.session.commit()
    before = dbstate.contents()
    data = {"to_user_id": str(third.id), "reason": "休假交接", "from_owner": str(first.id), "csrf_token": csrf()}
    refused = client.post(f"/members/{member.id}/reassign", data=data)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Someone else reassigned this case after you opened this page." in page and "钱二" in page
    assert 'value="休假交接"' in page  # what was typed stays
    assert f'name="from_owner" type="hidden" value="{second.id}"' in page  # saving again moves it on purpose
    assert dbstate.contents() == before

    again = client.post(f"/members/{member.id}/reassign", data={**data, "from_owner": str(second.id)})
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, member.id).owner_id == third.id
    assert db.session.query(Assignment).filter_by(member_id=member.id, from_user_id=second.id).count() == 1
