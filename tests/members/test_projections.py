"""The candidate view of someone else's member carries nothing that identifies them (DESIGN)."""

import dataclasses
from types import SimpleNamespace

import pytest

from crm.members.models import Gender
from crm.members.projections import CandidateView, SharedProfile
from tests import factories

IDENTIFYING = {"name": "标记姓名", "phone": "13912340000", "wechat_id": "marker_wechat", "id_last4": "9X9X",
               "employer": "标记单位有限公司", "photo_path": "photos/marker.jpg", "union_name": "标记工会",
               "hometown": "标记乡"}


@pytest.fixture
def marked_member(db):
    return factories.make_member(owner=factories.make_user("volunteer"), photo_consent=True, gender=Gender.MALE,
                                 self_intro="喜欢徒步。", **IDENTIFYING)


def _everything(obj) -> str:
    return repr(dataclasses.asdict(obj)) + obj.summary


def test_the_candidate_view_has_no_identifying_field():
    fields = {f.name for f in dataclasses.fields(CandidateView)}
    assert not fields & {"name", "phone", "wechat_id", "id_last4", "id_hash", "id_number", "employer", "union_name",
                         "photo_path", "owner", "owner_id", "id", "member", "member_id", "birth_date"}


def test_the_candidate_view_of_a_member_shows_none_of_their_identity(marked_member):
    view = CandidateView.from_member(marked_member)
    text = _everything(view)
    for marker in IDENTIFYING.values():
        assert marker not in text
    assert str(marked_member.id_hash) not in text
    assert (view.age, view.work_district, view.height_cm, view.self_intro) == (
        marked_member.age, "西湖区", 165, "喜欢徒步。")
    assert view.interests == ("hiking", "reading")
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.age = 20  # type: ignore[misc]


@pytest.mark.parametrize(("consent", "shown", "hidden"), [
    ({}, ["标先生"], ["标记姓名", "13912340000", "marker_wechat", "标记单位有限公司", "photos/marker.jpg"]),
    ({"share_full_name": True, "share_phone": True}, ["标记姓名", "13912340000"],
     ["marker_wechat", "标记单位有限公司", "photos/marker.jpg"]),
    ({"share_wechat": True, "share_employer": True, "share_photo": True},
     ["marker_wechat", "标记单位有限公司", "photos/marker.jpg"], ["标记姓名", "13912340000"]),
])
def test_a_shared_profile_adds_only_what_the_member_agreed_to(marked_member, consent, shown, hidden):
    profile = SharedProfile.from_member(marked_member, SimpleNamespace(**{"share_full_name": False, **consent}))
    text = _everything(profile)
    for value in shown:
        assert value in text
    for value in hidden:
        assert value not in text
    assert "9X9X" not in text and "标记工会" not in text


def test_a_photo_without_photo_consent_is_never_shared(marked_member):
    marked_member.photo_consent = False
    profile = SharedProfile.from_member(marked_member, SimpleNamespace(share_full_name=True, share_photo=True))
    assert profile.photo_path is None
