"""One of every record, all reachable by one user who holds every role: URL arguments for the header
checks and the form fuzzing (an argument name this does not know gets a record that does not exist)."""

from crm.auth.models import Role
from crm.clock import today
from crm.counselling.models import Risk, RiskAlert
from crm.extensions import db
from crm.followups import services as followup_services
from crm.followups.models import FollowUp
from crm.members.models import Gender
from crm.pairings import services as pairing_services
from tests import factories
from tests.cards.helpers import consent
from tests.auth.test_policy import MISSING_ID, RouteCase
from tests.counselling.helpers import make_referral, make_session

EVERY_ROLE = Role.VOLUNTEER | Role.COUNSELLOR | Role.SUPERVISOR | Role.ADMIN


class Scene:
    def __init__(self):
        self.branch = factories.make_branch()
        self.user = factories.make_user(EVERY_ROLE, branch=self.branch)
        self.colleague = factories.make_user("volunteer", branch=self.branch)
        self.counsellor = factories.make_user("counsellor", branch=self.branch)
        self.member = factories.make_member(owner=self.user, gender=Gender.FEMALE, name="林晓雨")
        self.partner = factories.make_member(owner=self.user, gender=Gender.MALE, name="张建国")
        self.spare = factories.make_member(owner=self.user, gender=Gender.MALE, name="王志远")
        self.note = factories.make_note(self.member, self.user)
        self.pairing = pairing_services.propose_pairing(self.partner, self.member, self.user)
        consent(self.pairing, self.partner, self.user)  # introduced: its cards print
        consent(self.pairing, self.member, self.user)
        self.referral = make_referral(self.member, self.user, counsellor=self.user)
        make_session(self.referral, self.user, risk=Risk.HIGH)
        self.alert = db.session.query(RiskAlert).filter_by(member_id=self.member.id).one()
        self.followup = FollowUp(due_on=today(), assignee_id=self.user.id, member_id=self.member.id, title="回访")
        db.session.add(self.followup)
        self.token = followup_services.reset_ics_token(self.user)
        db.session.flush()
        self.known = {"member_id": self.member.id, "note_id": self.note.id, "pairing_id": self.pairing.id,
                      "referral_id": self.referral.id, "alert_id": self.alert.id, "followup_id": self.followup.id,
                      "token": self.token, "filename": "css/app.css"}

    def unknown_arguments(self, route: RouteCase) -> list[str]:
        return [name for name in route.arguments if name not in self.known]

    def url_values(self, route: RouteCase) -> dict:
        """As tests/auth/test_policy.World.url_values: an argument added later gets a record that does not exist."""
        return {name: self.known.get(name, MISSING_ID if name in route.int_arguments else "no-such-record")
                for name in route.arguments}
