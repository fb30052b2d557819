"""Multi-row actions are all-or-nothing: when one row fails halfway, nothing of the action is written."""

import pytest

from crm.members import services
from tests import factories
from tests.integrity.test_backup import dbstate


def test_bulk_reassign_rolls_back_entirely_when_one_row_fails(app, client, db, login_as, csrf, monkeypatch):
    supervisor = login_as("supervisor")
    target = factories.make_user("volunteer", branch=supervisor.branch)
    other = factories.make_user("volunteer", branch=supervisor.branch)
    members = [factories.make_member(owner=other, branch=supervisor.branch) for _ in range(6)]
    db.session.commit()
    ids = [str(m.id) for m in members]
    before = dbstate.contents()
    real_record, calls = services.record, []

    def failing_record(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # the fourth member's audit entry fails: three were already changed in the session
            raise RuntimeError("disk full")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(services, "record", failing_record)
    with pytest.raises(RuntimeError, match="disk full"):
        client.post("/members/reassign", data={
            "csrf_token": csrf(), "member_ids": ids, "to_user_id": str(target.id), "reason": "调整",
            "next": "/members/search", "over_capacity_ok": "y", "confirmed": "1"})
    db.session.remove()
    assert len(calls) == 4
    assert dbstate.contents() == before  # no owner changed, no assignment, no audit entry

    monkeypatch.setattr(services, "record", real_record)
    response = client.post("/members/reassign", data={
        "csrf_token": csrf(), "member_ids": ids, "to_user_id": str(target.id), "reason": "调整",
        "next": "/members/search", "over_capacity_ok": "y", "confirmed": "1"})
    assert response.status_code == 302
    db.session.remove()
    after = dbstate.contents()
    assert len(after["assignments"]) == len(before["assignments"]) + 6
