"""The supervisor dashboard: its numbers on the scene, and a statement count that does not grow."""

from datetime import timedelta

import pytest

from crm.clock import now_utc, today
from crm.extensions import db
from crm.followups.models import FollowUp, FollowUpKind
from crm.pairings.models import ConsentAnswer, PairingConsent, Stage
from crm.stats import queries
from tests.factories import make_member, make_note, make_user
from tests.stats import scene
from tests.stats.scene import MARCH


@pytest.fixture
def s(db):
    return scene.build()


def test_funnel_of_the_march_cohort(s):
    # Proposed in March: p2 (reached dating later) and p3 (awaiting consent, then declined).
    steps = {step.stage: step for step in queries.funnel(MARCH, None)}
    assert steps[Stage.PROPOSED].reached == 2
    assert steps[Stage.AWAITING_CONSENT].reached == 2
    assert steps[Stage.INTRODUCED].reached == 1
    assert steps[Stage.INTRODUCED].conversion == 0.5
    assert steps[Stage.DATING].reached == 1
    assert steps[Stage.RELATIONSHIP].reached == 0 and steps[Stage.MARRIED].reached == 0
    assert steps[Stage.RELATIONSHIP].conversion == 0


def test_median_days_in_stage(s):
    # Moves into "introduced" in March: p1 5 Mar -> 6 Mar (1 day), p2 31 Mar 23:59:59 -> 1 Apr 12:00.
    medians = queries.median_days_in_stage(MARCH, None)
    assert medians["introduced"] == pytest.approx(0.8, abs=0.05)  # (1 + 0.5) / 2, rounded
    # "dating" in March: p1 6 -> 10 Mar (4 days), 12 -> 20 Mar (8 days): median 6.
    assert medians["dating"] == 6.0


def test_monthly_trends_and_close_reasons(s):
    from crm.stats.definitions import Period
    rows = queries.monthly_trends(Period(MARCH.start, scene.APRIL.end), None)
    # Proposed: p2, p3 in March, p4 in April. Introduced (first time): p1, p2 in March; p2 again in
    # April after its reopening does not count.
    assert [(r.month, r.proposed, r.introduced, r.married) for r in rows] == [("2026-03", 2, 2, 0),
                                                                               ("2026-04", 1, 0, 0)]
    reasons = {r.value: n for r, n in queries.close_reasons(scene.APRIL, None)}
    assert reasons == {"other": 1, "lost_contact": 1, "declined": 1}


def test_volunteers_caseload_overdue_and_consents(s):
    FollowUp.__table__  # noqa: B018 - imported for the follow-up below
    db.session.add(FollowUp(due_on=today() - timedelta(days=1), assignee_id=s.vol_a.id, member_id=s.a1.id,
                            kind=FollowUpKind.OTHER))
    db.session.add(FollowUp(due_on=today() + timedelta(days=1), assignee_id=s.vol_a.id, member_id=s.a1.id,
                            kind=FollowUpKind.OTHER))
    # p3 is closed; a fresh overdue consent request on a pair awaiting consent:
    pair = scene.make_pair(s.a3, s.b2, [(Stage.AWAITING_CONSENT, now_utc() - timedelta(days=20))])
    for m in (s.a3, s.b2):
        db.session.add(PairingConsent(pairing_id=pair.id, member_id=m.id, asked_at=now_utc() - timedelta(days=20),
                                      answer=ConsentAnswer.PENDING))
    db.session.flush()
    rows = {r.name: r for r in queries.volunteers(s.A.id)}
    a = rows["志愿者甲"]
    # a1 a3 a4 a5 c1 d1 open (a2 closed); capacity 3
    assert (a.caseload, a.capacity, a.over_capacity, a.overdue_followups, a.unanswered_consents) == (6, 3, True, 1, 1)
    assert "志愿者乙" not in rows
    assert queries.volunteers(None)[1].unanswered_consents == 1


def test_neglected_members(s, app):
    # Active members: a1 a3 a4 a5 b1 b2 b3 d1. Recent activity (by now): none of the scene's notes or
    # pairings are within 30 days, so every active member of A is neglected; a fresh note rescues a1.
    make_note(s.a1, s.vol_a)
    total, rows = queries.neglected_members(s.A.id)
    assert total == 4 and {r.member_id for r in rows} == {s.a3.id, s.a4.id, s.a5.id, s.d1.id}
    total, rows = queries.neglected_members(s.A.id, limit=2)
    assert total == 4 and len(rows) == 2


def test_open_risk_alerts(s):
    assert [a.id for a in queries.open_risk_alerts(s.A.id)] == [s.alert.id]
    assert queries.open_risk_alerts(s.B.id) == []


def _grow(s, n):
    """n more members with notes, pairings and follow-ups in branch A."""
    for i in range(n):
        m = make_member(branch=s.A, owner=s.vol_a)
        make_note(m, s.vol_a)
        other = make_member(branch=s.B, owner=s.vol_b)
        scene.make_pair(m, other, [(Stage.PROPOSED, scene.t(3, 2 + i % 20)), (Stage.INTRODUCED, scene.t(3, 25)),
                                   (Stage.CLOSED, scene.t(3, 26), scene.PairingCloseReason.OTHER)])
        db.session.add(FollowUp(due_on=today() - timedelta(days=3), assignee_id=s.vol_a.id, member_id=m.id))
    for _ in range(n // 5):
        make_user("volunteer", branch=s.A)
    db.session.commit()


def _dashboard_statements(client, count_queries):
    with count_queries() as statements:
        response = client.get("/stats/dashboard?start=2026-03-01&end=2026-04-30")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return len(statements)


def test_dashboard_statement_count_does_not_grow(s, client, login_as, count_queries):
    login_as("supervisor", branch=s.A)
    small = _dashboard_statements(client, count_queries)
    _grow(s, 30)
    large = _dashboard_statements(client, count_queries)
    assert small == large
    # session + user, then funnel 2, medians, trends, reasons, volunteers, neglected, alerts, branch name
    assert large <= 12, large


def test_needs_attention_reads_in_the_singular_for_one(s, client, login_as):
    """The scene's one open alert reads "1 … flag", its no overdue follow-ups "0 … follow-ups"."""
    login_as("supervisor", branch=s.A)
    page = client.get("/stats/dashboard").get_data(as_text=True)
    attention = page[page.index('id="attention"'):page.index("</section>", page.index('id="attention"'))]
    assert "<strong>1</strong> high risk counselling flag awaiting acknowledgement" in attention
    assert "flags awaiting" not in attention
    assert "<strong>0</strong> overdue follow-ups" in attention
