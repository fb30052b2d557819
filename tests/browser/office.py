"""One branch's office as the page sweeps need it: a person per role, members with a note, an introduction both
members agreed to, a referral with a high-risk session, a follow-up and an open event with its public sign-up."""

from datetime import timedelta

from crm.clock import today
from crm.counselling.models import Risk
from crm.extensions import db as _db
from crm.followups.models import FollowUp
from crm.members.models import Gender
from crm.pairings import services as pairing_services
from tests.cards.helpers import consent
from tests.counselling.helpers import make_referral, make_session
from tests.events.helpers import make_event
from tests.factories import make_branch, make_member, make_note, make_user


class Office:
    def __init__(self):
        branch = make_branch(name="拱墅区工会服务站")
        self.volunteer = make_user("volunteer", branch=branch, display_name="王芳")
        self.supervisor = make_user("supervisor", branch=branch, display_name="周主任")
        self.counsellor = make_user("counsellor", branch=branch, display_name="孙老师")
        self.admin = make_user("admin", branch=branch, display_name="管理员")
        self.member = make_member(owner=self.volunteer, name="李晓梅", gender=Gender.FEMALE)
        self.partner = make_member(owner=self.volunteer, name="张建国", gender=Gender.MALE)
        make_member(owner=self.volunteer, name="陈志强", gender=Gender.MALE)
        make_note(self.member, self.volunteer, body="第一次电话，了解基本情况。")
        self.pairing = pairing_services.propose_pairing(self.partner, self.member, self.volunteer)
        consent(self.pairing, self.partner, self.volunteer)
        consent(self.pairing, self.member, self.volunteer)
        self.referral = make_referral(self.member, self.volunteer, counsellor=self.counsellor)
        make_session(self.referral, self.counsellor, risk=Risk.HIGH)
        _db.session.add(FollowUp(due_on=today() + timedelta(days=2), assignee_id=self.volunteer.id,
                                 member_id=self.member.id, title="回访见面感受"))
        self.event = make_event(branch, title="冬季滑雪联谊")
        _db.session.commit()
