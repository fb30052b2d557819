from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEntry
from crm.clock import today
from crm.errors import Refusal
from crm.extensions import db
from crm.followups.models import FollowUp, FollowUpKind
from crm.members.models import CloseReason, MemberStatus
from crm.pairings import pipeline
from crm.pairings.models import ConsentAnswer, PairingCloseReason, Stage, StageChange
from tests.factories import make_user
from tests.pairings.helpers import both_yes, proposed

ALL_MOVES = [(f, t) for f in Stage for t in Stage]
ALLOWED = {(f, t) for f, row in pipeline.TRANSITIONS.items() for t in row}


def _put_at(stage, pairing, vol_a, vol_b, a, b, supervisor):
    """Bring a fresh pairing to ``stage`` by legal moves (through introduced when needed)."""
    if stage is Stage.PROPOSED:
        pairing.stage = Stage.PROPOSED
        db.session.flush()
        return
    if stage is Stage.AWAITING_CONSENT:
        return
    both_yes(pairing, vol_a, vol_b, a, b)
    if stage is Stage.CLOSED:
        pipeline.move(pairing, Stage.CLOSED, vol_a, close_reason=PairingCloseReason.NO_CHEMISTRY)
    elif stage is not Stage.INTRODUCED:
        pipeline.move(pairing, stage, vol_a)


@pytest.mark.parametrize(("from_stage", "to_stage"), ALL_MOVES, ids=lambda s: s.value)
def test_transitions_table(db, app, ctx, from_stage, to_stage):
    """Every move in the table works; every other refuses with a message and changes nothing."""
    pairing, vol_a, vol_b, a, b = proposed()
    supervisor = make_user("supervisor", branch=a.branch)
    _put_at(from_stage, pairing, vol_a, vol_b, a, b, supervisor)
    assert pairing.stage is from_stage
    kind = pipeline.TRANSITIONS[from_stage].get(to_stage)
    reopen_target = pipeline.stage_before_close(pairing) if from_stage is Stage.CLOSED else None
    legal = kind is not None and (kind != pipeline.REOPEN or to_stage is reopen_target)
    by = supervisor if kind == pipeline.REOPEN else vol_b
    reason = PairingCloseReason.OTHER if to_stage is Stage.CLOSED else None
    history_before = len(pairing.history)
    followups_before = db.session.scalar(select(func.count(FollowUp.id)))
    if to_stage.is_introduced_or_later:  # the consent rule has its own test below
        for consent in pairing.consents:
            consent.answer = ConsentAnswer.YES
    if legal:
        pipeline.move(pairing, to_stage, by, note="reason given", close_reason=reason)
        assert pairing.stage is to_stage
        assert pairing.history[-1].from_stage is from_stage and pairing.history[-1].to_stage is to_stage
    else:
        version = pairing.version
        with pytest.raises(Refusal) as refused:
            pipeline.move(pairing, to_stage, by, note="reason given", close_reason=reason)
        assert str(refused.value.message)
        db.session.flush()
        assert pairing.stage is from_stage and pairing.version == version
        assert len(pairing.history) == history_before
        assert db.session.scalar(select(func.count(FollowUp.id))) == followups_before


def test_allowed_moves_match_the_table_for_an_owner(db, app, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)
    assert pipeline.allowed_moves(pairing, vol_a) == [
        Stage.FIRST_MEETING, Stage.DATING, Stage.RELATIONSHIP, Stage.ENGAGED, Stage.MARRIED, Stage.CLOSED]


def test_introduced_needs_both_yes(db, app, ctx):
    pairing, vol_a, *_ = proposed()
    assert Stage.INTRODUCED not in pipeline.allowed_moves(pairing, vol_a)
    with pytest.raises(Refusal, match="Both members must say yes"):
        pipeline.move(pairing, Stage.INTRODUCED, vol_a)


def test_outsider_cannot_move(db, app, ctx):
    pairing, *_ = proposed()
    stranger = make_user("volunteer")
    assert pipeline.allowed_moves(pairing, stranger) == []
    with pytest.raises(Refusal):
        pipeline.move(pairing, Stage.CLOSED, stranger, close_reason=PairingCloseReason.OTHER)


def test_only_a_supervisor_reopens_and_with_a_reason(db, app, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)
    pipeline.move(pairing, Stage.DATING, vol_a)
    pipeline.move(pairing, Stage.CLOSED, vol_a, close_reason=PairingCloseReason.LOST_CONTACT)
    supervisor = make_user("supervisor", branch=a.branch)
    assert pipeline.allowed_moves(pairing, vol_a) == []
    assert pipeline.allowed_moves(pairing, supervisor) == [Stage.DATING]
    with pytest.raises(Refusal, match="reason"):
        pipeline.move(pairing, Stage.DATING, supervisor, note=" ")
    pipeline.move(pairing, Stage.DATING, supervisor, note="他们又联系上了")
    assert pairing.stage is Stage.DATING and pairing.close_reason is None


def test_member_effects_relationship_married_closed(db, app, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)
    pipeline.move(pairing, Stage.RELATIONSHIP, vol_a)
    assert a.status is b.status is MemberStatus.IN_RELATIONSHIP
    pipeline.move(pairing, Stage.CLOSED, vol_b, close_reason=PairingCloseReason.ENDED_BY_MEMBER)
    assert a.status is b.status is MemberStatus.ACTIVE

    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)
    pipeline.move(pairing, Stage.ENGAGED, vol_a)
    pipeline.move(pairing, Stage.MARRIED, vol_a)
    assert a.status is b.status is MemberStatus.CLOSED
    assert a.close_reason is b.close_reason is CloseReason.MARRIED


def test_move_writes_history_audit_and_followups_for_each_owner(db, app, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)
    intro = db.session.scalars(select(FollowUp).where(FollowUp.pairing_id == pairing.id)).all()
    assert {(f.assignee_id, f.member_id, f.due_on, f.kind) for f in intro} == {
        (vol_a.id, a.id, today() + timedelta(days=7), FollowUpKind.CHECK_IN),
        (vol_b.id, b.id, today() + timedelta(days=7), FollowUpKind.CHECK_IN)}
    pipeline.move(pairing, Stage.FIRST_MEETING, vol_b, note="周六见面")
    firsts = db.session.scalars(select(FollowUp).where(FollowUp.kind == FollowUpKind.AFTER_MEETING)).all()
    assert sorted(f.due_on for f in firsts) == [today() + timedelta(days=3)] * 2
    pipeline.move(pairing, Stage.DATING, vol_b)
    monthly = db.session.scalars(select(FollowUp).where(FollowUp.kind == FollowUpKind.MONTHLY)).all()
    assert {f.due_on for f in monthly} == {today() + timedelta(days=30)}
    assert {f.assignee_id for f in monthly} == {vol_a.id, vol_b.id}
    last = db.session.scalars(select(StageChange).order_by(StageChange.id.desc())).first()
    assert (last.from_stage, last.to_stage, last.by_id) == (Stage.FIRST_MEETING, Stage.DATING, vol_b.id)
    moves = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "pairing.move")).all()
    assert [m.detail["to_stage"] for m in moves] == ["introduced", "first_meeting", "dating"]


def test_followup_days_come_from_config(db, app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "PAIRING_FOLLOWUP_DAYS", {"introduced": 2})
    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)
    dues = db.session.scalars(select(FollowUp.due_on).where(FollowUp.pairing_id == pairing.id)).all()
    assert dues == [today() + timedelta(days=2)] * 2


def test_a_member_whose_case_is_closed_cannot_be_introduced_or_move_on(db, app, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)
    b.status = MemberStatus.CLOSED
    assert Stage.DATING not in pipeline.allowed_moves(pairing, vol_a)
    with pytest.raises(Refusal, match="closed case file"):
        pipeline.move(pairing, Stage.DATING, vol_a)
    assert Stage.CLOSED in pipeline.allowed_moves(pairing, vol_a)
