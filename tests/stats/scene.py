"""Constructed data whose figures are known by hand (see the comments), for the counter tests.

Period under test: March 2026. Branch A and branch B. Person P has a case file in each branch
(same ID-number hash). Stage history rows are written directly with chosen timestamps.
"""

from datetime import date, datetime

from crm.counselling.models import Risk, RiskAlert
from crm.events.models import Event, EventRegistration, EventStatus, RegistrationStatus
from crm.extensions import db
from crm.members.models import MemberStatus, id_number_hash
from crm.pairings.models import Pairing, PairingCloseReason, Source, Stage, StageChange
from crm.stats.definitions import Period
from tests.counselling.helpers import make_referral, make_session
from tests.factories import make_branch, make_member, make_note, make_user

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
APRIL = Period(date(2026, 4, 1), date(2026, 4, 30))
MAY = Period(date(2026, 5, 1), date(2026, 5, 31))
JUNE = Period(date(2026, 6, 1), date(2026, 6, 30))
JAN = datetime(2026, 1, 1)


def t(month, day, hour=12, minute=0, second=0):
    return datetime(2026, month, day, hour, minute, second)


def make_pair(a, b, history, source=Source.MANUAL):
    """``history``: [(to_stage, at) or (to_stage, at, close_reason)], the first being the proposal."""
    low, high = (a, b) if a.id < b.id else (b, a)
    last = history[-1]
    pairing = Pairing(member_low_id=low.id, member_high_id=high.id, source=source, stage=last[0],
                      created_at=history[0][1], stage_changed_at=last[1],
                      close_reason=last[2] if len(last) > 2 else None)
    db.session.add(pairing)
    db.session.flush()
    previous = None
    for step in history:
        db.session.add(StageChange(pairing_id=pairing.id, from_stage=previous, to_stage=step[0], at=step[1],
                                   close_reason=step[2] if len(step) > 2 else None))
        previous = step[0]
    db.session.flush()
    return pairing


class Scene:
    pass


def build() -> Scene:
    s = Scene()
    s.A, s.B = make_branch(name="A 分会"), make_branch(name="B 分会")
    s.vol_a = make_user("volunteer", branch=s.A, display_name="志愿者甲", max_caseload=3)
    s.vol_b = make_user("volunteer", branch=s.B, display_name="志愿者乙")
    s.counsellor = make_user("counsellor", branch=s.A)

    def member(branch, **kw):
        return make_member(branch=branch, owner=s.vol_a if branch is s.A else s.vol_b, created_at=JAN, **kw)

    s.a1, s.a2, s.a3, s.a4 = (member(s.A) for _ in range(4))
    s.a2.status = MemberStatus.CLOSED
    s.b1, s.b2 = member(s.B), member(s.B)
    same = id_number_hash("test", "P-330106199001011234")
    s.a5, s.b3 = member(s.A, id_hash=same), member(s.B, id_hash=same)  # person P, two case files
    s.c1 = member(s.A, status=MemberStatus.PAUSED)
    s.d1 = make_member(branch=s.A, owner=s.vol_a, created_at=t(4, 5))  # opened after March

    # Notes: P in both branches in March (counts once union-wide); c1 on the last second of February.
    make_note(s.a5, s.vol_a, created_at=t(3, 15))
    make_note(s.b3, s.vol_b, created_at=t(3, 16))
    make_note(s.c1, s.vol_a, created_at=t(2, 28, 23, 59, 59))
    make_note(s.b1, s.vol_b, created_at=t(4, 1, 0, 0, 0))

    S, R = Stage, PairingCloseReason
    # p1 back and forth: introduced 5 Mar, dating 6 Mar, closed 10 Mar, reopened 12 Mar, relationship
    # 20 Mar, closed 2 Apr, reopened 5 Apr, engaged 10 Apr, married 1 Jun.
    s.p1 = make_pair(s.a1, s.a2, [(S.PROPOSED, t(2, 20)), (S.AWAITING_CONSENT, t(2, 21)), (S.INTRODUCED, t(3, 5)),
                                  (S.DATING, t(3, 6)), (S.CLOSED, t(3, 10), R.NO_CHEMISTRY), (S.DATING, t(3, 12)),
                                  (S.RELATIONSHIP, t(3, 20)), (S.CLOSED, t(4, 2), R.OTHER),
                                  (S.RELATIONSHIP, t(4, 5)), (S.ENGAGED, t(4, 10)), (S.MARRIED, t(6, 1))])
    # p2 across branches, on the period's boundaries: proposed at the first moment of March, introduced
    # at its last second, closed 1 Apr, reopened 3 Apr (introduced again), dating 4 Apr.
    s.p2 = make_pair(s.a3, s.b1, [(S.AWAITING_CONSENT, t(3, 1, 0, 0, 0)), (S.INTRODUCED, t(3, 31, 23, 59, 59)),
                                  (S.CLOSED, t(4, 1), R.LOST_CONTACT), (S.INTRODUCED, t(4, 3)), (S.DATING, t(4, 4))])
    # p3 across branches: proposed 31 Mar, declined 1 Apr.
    s.p3 = make_pair(s.a4, s.b2, [(S.AWAITING_CONSENT, t(3, 31)), (S.CLOSED, t(4, 1), R.DECLINED)])
    # p4: proposed at the first moment of April (not March).
    s.p4 = make_pair(s.a1, s.b2, [(S.PROPOSED, t(4, 1, 0, 0, 0))])

    # Counselling: two sessions in A in March (1st and 31st), one in A on 1 Apr, one in B in March.
    ref_a = make_referral(s.a3, s.vol_a, counsellor=s.counsellor)
    ref_b = make_referral(s.b1, s.vol_b, counsellor=s.counsellor, branch_id=s.B.id)
    make_session(ref_a, s.counsellor, held_on=date(2026, 3, 1))
    high = make_session(ref_a, s.counsellor, held_on=date(2026, 3, 31), risk=Risk.HIGH)
    make_session(ref_a, s.counsellor, held_on=date(2026, 4, 1))
    make_session(ref_b, s.counsellor, held_on=date(2026, 3, 10))
    s.alert = db.session.scalar(db.select(RiskAlert).where(RiskAlert.session_id == high.id))

    # Events: held 10 Mar by A with B co-hosting (2 attended, 1 no-show, 1 cancelled); held 1 Apr by B;
    # a cancelled one in March.
    e1 = Event(title="春季联谊", starts_at=t(3, 10, 14), ends_at=t(3, 10, 17), place="工人文化宫", branch_id=s.A.id,
               capacity=40, status=EventStatus.HELD)
    e1.hosts = [s.A, s.B]
    e2 = Event(title="四月联谊", starts_at=t(4, 1, 0), ends_at=t(4, 1, 3), place="图书馆", branch_id=s.B.id,
               capacity=40, status=EventStatus.HELD)
    e3 = Event(title="取消的活动", starts_at=t(3, 20, 14), ends_at=t(3, 20, 16), place="公园", branch_id=s.A.id,
               capacity=40, status=EventStatus.CANCELLED)
    db.session.add_all([e1, e2, e3])
    db.session.flush()
    for n, (m, status) in enumerate([(s.a1, RegistrationStatus.ATTENDED), (s.b1, RegistrationStatus.ATTENDED),
                                     (s.a3, RegistrationStatus.NO_SHOW), (s.a4, RegistrationStatus.CANCELLED)], 1):
        db.session.add(EventRegistration(event_id=e1.id, member_id=m.id, status=status, badge_number=n))
    db.session.add(EventRegistration(event_id=e2.id, member_id=s.b2.id, status=RegistrationStatus.ATTENDED,
                                     badge_number=1))
    db.session.add(EventRegistration(event_id=e3.id, member_id=s.a1.id, status=RegistrationStatus.ATTENDED,
                                     badge_number=1))
    db.session.flush()
    return s
