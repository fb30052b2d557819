"""Demo counselling data for `flask seed-demo`: referrals in every state, sessions, one open high risk alert."""

from datetime import timedelta

from crm.auth.models import Role
from crm.clock import now_utc, today
from crm.counselling.models import (
    ConsentChannel,
    CounsellingSession,
    Referral,
    ReferralStatus,
    Risk,
    RiskAlert,
    SessionMode,
    Topic,
)
from crm.extensions import db
from crm.followups.models import FollowUp, FollowUpKind

REASONS = ["上次见面后情绪低落，希望有人聊聊。", "对婚恋有顾虑，父母催婚压力大。",
           "和对象沟通经常吵架，想学习沟通方法。", "离异后一直不敢开始新的感情。", "工作压力大，睡眠不好，影响交往。"]
NOTES = ["来访者谈到原生家庭的冲突，情绪起伏较大，建议继续观察。", "讨论了对亲密关系的恐惧，布置了情绪日记作业。",
         "来访者表示近期有失眠，已建议就医评估。", "来访者情绪明显改善，开始主动参加活动。"]
SUMMARIES = ["会员愿意继续咨询，下次重点练习表达需求。", "会员情绪有所好转，建议红娘暂缓安排见面。",
             "会员希望先参加集体活动再考虑一对一介绍。", None]


def seed_counselling(rng, users, members):
    """Referrals for each branch's counsellor; the first branch's counsellor has one high risk flag."""
    for counsellor in [u for u in users if u.has_role(Role.COUNSELLOR)]:
        supervisors = [u for u in users if u.has_role(Role.SUPERVISOR) and u.branch_id == counsellor.branch_id]
        candidates = [m for m in members if m.branch_id == counsellor.branch_id and m.owner_id][:7]
        for i, member in enumerate(candidates):
            status = [ReferralStatus.ACCEPTED] * 3 + [ReferralStatus.CLOSED] + [ReferralStatus.OPEN] * 2
            state = status[i] if i < len(status) else ReferralStatus.OPEN
            referral = _referral(rng, member, counsellor, state, i)
            if state is not ReferralStatus.OPEN:
                high = i == 0 and counsellor.username == "counsellor"
                _sessions(rng, referral, counsellor, supervisors, count=rng.randint(1, 3), high_risk=high)


def _referral(rng, member, counsellor, state, i) -> Referral:
    created = now_utc() - timedelta(days=40 - i * 5)
    referral = Referral(member_id=member.id, branch_id=member.branch_id, reason=rng.choice(REASONS),
                        referred_by_id=member.owner_id, is_self_referred=i == 2, consent_at=created,
                        consent_recorded_by_id=member.owner_id, consent_channel=rng.choice(list(ConsentChannel)),
                        status=state, created_at=created)
    if state is not ReferralStatus.OPEN:
        referral.counsellor_id, referral.accepted_at = counsellor.id, created + timedelta(days=1)
    if state is ReferralStatus.CLOSED:
        referral.closed_at, referral.closed_by_id = now_utc() - timedelta(days=2), counsellor.id
        referral.outcome = "会员情绪稳定，已恢复参加联谊活动，结束咨询。"
    db.session.add(referral)
    db.session.flush()
    return referral


def _sessions(rng, referral, counsellor, supervisors, *, count, high_risk):
    held = referral.accepted_at.date() + timedelta(days=3)
    for n in range(count):
        last = n == count - 1
        following = held + timedelta(days=14)
        planned = last and referral.status is ReferralStatus.ACCEPTED and following > today()
        session = CounsellingSession(
            referral_id=referral.id, counsellor_id=counsellor.id, held_on=min(held, today()),
            duration_minutes=rng.choice([45, 50, 60]), mode=rng.choice(list(SessionMode)),
            topic=rng.choice(list(Topic)), confidential_notes=rng.choice(NOTES),
            shareable_summary=rng.choice(SUMMARIES), next_session_on=following if planned else None,
            risk=Risk.HIGH if (high_risk and last) else rng.choice([Risk.NONE, Risk.NONE, Risk.LOW]))
        db.session.add(session)
        db.session.flush()
        if planned:
            db.session.add(FollowUp(due_on=following, assignee_id=counsellor.id, member_id=referral.member_id,
                                    kind=FollowUpKind.COUNSELLING, created_by_id=counsellor.id))
        if session.risk is Risk.HIGH:
            followups = [FollowUp(due_on=today(), assignee_id=s.id, member_id=referral.member_id,
                                  kind=FollowUpKind.RISK_ALERT, title="心理咨询高风险提示：请确认",
                                  created_by_id=counsellor.id)
                         for s in supervisors]
            db.session.add(RiskAlert(session_id=session.id, branch_id=referral.branch_id,
                                     member_id=referral.member_id, followups=followups))
        held = following
