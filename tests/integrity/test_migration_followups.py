"""Migration b3c5d7e9f1a2 on a populated database, both engines: the follow-ups that earlier versions left
stale (with a former owner, on closed introductions and case files) are put right, counselling's get their
kinds, and nothing else changes."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from crm.extensions import db
from tests.integrity.migration_app import migration_app

BEFORE = "f1b9d3e5a7c2"


def _one(sql, **params):
    return db.session.execute(text(sql), params).one()


def _followup(assignee_id, member_id, *, pairing_id=None, kind="other", title=None) -> int:
    return db.session.execute(text(
        "INSERT INTO followups (version, due_on, assignee_id, member_id, pairing_id, kind, title, created_at) "
        "VALUES (1, '2026-12-20', :a, :m, :p, :k, :t, '2026-12-01 10:00:00') RETURNING id"),
        {"a": assignee_id, "m": member_id, "p": pairing_id, "k": kind, "t": title}).scalar_one()


def _row(followup_id):
    return _one("SELECT assignee_id, kind, title, done_at IS NOT NULL AS ended, outcome FROM followups "
                "WHERE id = :i", i=followup_id)


def test_stale_followups_are_put_right(tmp_path):
    with migration_app(tmp_path) as app:
        upgrade()
        result = app.test_cli_runner().invoke(args=["seed-demo", "--members", "60"])
        assert result.exit_code == 0, result.output
        db.session.remove()
        downgrade(revision=BEFORE)

        owner, member = _one("SELECT owner_id, id FROM members WHERE status = 'active' "
                             "AND owner_id IS NOT NULL ORDER BY id LIMIT 1")
        former = _one("SELECT id FROM users WHERE id != :o AND username LIKE 'volunteer%' LIMIT 1",
                      o=owner)[0]
        db.session.execute(text("INSERT INTO assignments (member_id, from_user_id, to_user_id, by_id, at, "
                                "reason) VALUES (:m, :f, :o, :o, '2026-11-01 10:00:00', '调整')"),
                           {"m": member, "f": former, "o": owner})
        with_former = _followup(former, member, title="问问近况")
        closed_member = _one("SELECT id, owner_id FROM members WHERE status = 'closed' LIMIT 1")
        on_closed_case = _followup(closed_member[1] or owner, closed_member[0])
        closed_pairing = _one("SELECT id, member_low_id FROM pairings WHERE stage = 'closed' LIMIT 1")
        on_closed_pairing = _followup(owner, closed_pairing[1], pairing_id=closed_pairing[0],
                                      kind="check_in")
        counsellor, counselled = _one("SELECT counsellor_id, member_id FROM referrals "
                                      "WHERE status = 'accepted' LIMIT 1")
        planned = _followup(counsellor, counselled, title="心理咨询")
        orphan = _followup(counsellor, member, title="Counselling session")
        alert_followup = _one("SELECT followup_id FROM risk_alert_followups LIMIT 1")[0]
        untouched = _followup(owner, member, title="心理咨询以外的事")
        db.session.commit()

        upgrade()

        assert _row(with_former)[:2] == (owner, "other") and not _row(with_former).ended
        assert _row(on_closed_case).ended and _row(on_closed_case).outcome == "该个案已结案。"
        assert _row(on_closed_pairing).ended and _row(on_closed_pairing).outcome == "该介绍已结束。"
        assert tuple(_row(planned)[:4]) == (counsellor, "counselling", None, False)
        assert _row(orphan).kind == "counselling" and _row(orphan).ended
        assert _row(alert_followup).kind == "risk_alert"
        assert tuple(_row(untouched)[:4]) == (owner, "other", "心理咨询以外的事", False)
