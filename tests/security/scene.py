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
from tests.auth.test_policy import MISSING_ID, RouteCase
from tests.cards.helpers import consent
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
        self.known = {"user_id": self.colleague.id, **self._other_areas()}
        self.known |= {"member_id": self.member.id, "note_id": self.note.id, "pairing_id": self.pairing.id,
                      "referral_id": self.referral.id, "alert_id": self.alert.id, "followup_id": self.followup.id,
                      "token": self.token, "filename": "css/app.css"}

    def _other_areas(self) -> dict:
        """Records of areas added later (events, intake, statistics), when the checkout has them."""
        known = {}
        try:
            from crm.events import services as event_services
            from tests.events.helpers import make_event
        except ImportError:
            pass
        else:
            event = make_event(self.branch)
            registration = event_services.register(event, self.spare, self.user)
            known |= {"event_id": event.id, "registration_id": registration.id,
                      "public_token": event.public_token}
        try:
            from crm.intake import services as intake_services
            from crm.intake.forms import ApplicationForm
            from tests.intake.test_apply import application_data
        except ImportError:
            pass
        else:
            from flask import current_app
            from werkzeug.datastructures import MultiDict
            with current_app.test_request_context(method="POST", data=MultiDict(application_data(self.branch))):
                form = ApplicationForm(meta={"csrf": False})
                from wtforms.fields.choices import SelectChoice
                for field in form:  # choices the view sets (the branches): the one submitted
                    if getattr(field, "choices", False) is None:
                        field.choices = [SelectChoice(str(field.data), str(field.data))]
                assert form.validate(), form.errors
                known["application_id"] = intake_services.submit_application(form, self.branch).id
        known |= {"report": "members", "fmt": "csv"}
        return known

    def unknown_arguments(self, route: RouteCase) -> list[str]:
        return [name for name in route.arguments if name not in self.known]

    # Query strings a page needs to be the real page rather than a 404 (url_for appends unknown keys).
    QUERIES = {"pairings.board_more": {"stage": "proposed"}}

    def url_values(self, route: RouteCase) -> dict:
        """As tests/auth/test_policy.World.url_values: an argument added later gets a record that does not exist."""
        values = {name: self.known.get(name, MISSING_ID if name in route.int_arguments else "no-such-record")
                  for name in route.arguments}
        return {**self.QUERIES.get(route.endpoint, {}), **values}
