from datetime import timedelta

from sqlalchemy import select

from crm.clock import today
from crm.extensions import db
from crm.followups import ics
from crm.followups.models import FollowUp, FollowUpKind
from crm.followups.services import complete_followup, create_followup
from crm.pairings import pipeline
from crm.pairings.models import Stage
from tests.factories import make_member, make_user
from tests.pairings.helpers import both_yes, proposed


def test_completing_a_monthly_followup_of_a_dating_couple_schedules_the_next(db, app, ctx):
    pairing, vol_a, vol_b, a, b = proposed()
    both_yes(pairing, vol_a, vol_b, a, b)
    pipeline.move(pairing, Stage.DATING, vol_a)
    monthly = db.session.scalars(select(FollowUp).where(FollowUp.kind == FollowUpKind.MONTHLY,
                                                        FollowUp.assignee_id == vol_a.id)).one()
    following = complete_followup(monthly, by=vol_a, outcome="两人相处顺利")
    assert monthly.done_at is not None and monthly.outcome == "两人相处顺利"
    assert following.due_on == today() + timedelta(days=30) and following.assignee_id == vol_a.id


def test_list_filters_and_inline_completion(client, login_as, csrf):
    user = login_as("volunteer")
    member = make_member(owner=user)
    with client.application.test_request_context():
        late = create_followup(assignee=user, member=member, due_on=today() - timedelta(days=2),
                               kind=FollowUpKind.OTHER, by=user, title="打电话问问近况")
        create_followup(assignee=user, member=member, due_on=today(), kind=FollowUpKind.OTHER, by=user,
                        title="今天要做的事")
        create_followup(assignee=make_user("volunteer"), member=member, due_on=today(), kind=FollowUpKind.OTHER,
                        by=user, title="别人的事")
    db.session.commit()
    overdue = client.get("/followups/?show=overdue").get_data(as_text=True)
    assert "打电话问问近况" in overdue and "今天要做的事" not in overdue and "别人的事" not in overdue
    due = client.get("/followups/?show=today").get_data(as_text=True)
    assert "今天要做的事" in due and "打电话问问近况" not in due
    panel = client.get("/followups/panel", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "1 due today" in panel and "1 overdue" in panel
    empty = client.post(f"/followups/{late.id}/complete", data={"csrf_token": csrf(), "outcome": " ", "version": "1"},
                        headers={"HX-Request": "true"})
    assert empty.status_code == 422 and "<html" not in empty.get_data(as_text=True)
    done = client.post(f"/followups/{late.id}/complete", headers={"HX-Request": "true"},
                       data={"csrf_token": csrf(), "outcome": "已联系", "version": "1"})
    assert done.status_code == 200 and "已联系" in done.get_data(as_text=True)
    assert "已联系" in client.get("/followups/?show=done").get_data(as_text=True)


def test_adding_a_followup_from_the_case_file(client, login_as, csrf):
    user = login_as("volunteer")
    member = make_member(owner=user)
    db.session.commit()
    due = (today() + timedelta(days=3)).isoformat()
    response = client.post(f"/followups/new/{member.id}", data={"csrf_token": csrf(), "due_on": due,
                                                               "kind": "other", "title": "约见面谈"})
    assert response.status_code == 302
    assert "约见面谈" in client.get(f"/members/{member.id}").get_data(as_text=True)
    stranger = make_member(owner=make_user("volunteer"))
    db.session.commit()
    assert client.post(f"/followups/new/{stranger.id}", data={"csrf_token": csrf(), "due_on": due,
                                                              "kind": "other"}).status_code == 404


def test_ics_feed_token_works_wrong_token_404_reset_invalidates(client, login_as, csrf):
    user = login_as("volunteer")
    member = make_member(owner=user, name="秘密姓名")
    with client.application.test_request_context():
        create_followup(assignee=user, member=member, due_on=today(), kind=FollowUpKind.CHECK_IN, by=user)
    db.session.commit()
    assert client.post("/followups/feed/reset", data={"csrf_token": csrf()}).status_code == 302
    db.session.refresh(user)
    old = user.ics_token
    response = client.get(f"/followups/{old}.ics")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert f"DTSTART;VALUE=DATE:{today():%Y%m%d}" in body and "秘密姓名" not in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert client.get("/followups/not-the-right-token-at-all.ics").status_code == 404
    client.post("/followups/feed/reset", data={"csrf_token": csrf()})
    db.session.refresh(user)
    assert user.ics_token != old
    assert client.get(f"/followups/{old}.ics").status_code == 404
    assert client.get(f"/followups/{user.ics_token}.ics").status_code == 200


def test_ics_escaping_and_folding():
    assert ics.escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    folded = ics.fold("SUMMARY:" + "回访" * 40)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert "".join(p[1:] if i else p for i, p in enumerate(folded.split("\r\n"))) == "SUMMARY:" + "回访" * 40


def test_supervisors_see_their_branch_volunteers_see_only_their_own(client, login_as):
    from tests.factories import make_branch
    from tests.pairings.test_pages import switch

    branch = make_branch()
    volunteer = make_user("volunteer", branch=branch)
    supervisor = make_user("supervisor", branch=branch)
    outsider = make_user("volunteer")
    with client.application.test_request_context():
        create_followup(assignee=volunteer, member=make_member(owner=volunteer), due_on=today(),
                        kind=FollowUpKind.OTHER, by=volunteer, title="本站的回访")
        create_followup(assignee=outsider, member=make_member(owner=outsider), due_on=today(),
                        kind=FollowUpKind.OTHER, by=outsider, title="外站的回访")
    db.session.commit()
    switch(client, login_as, supervisor)
    page = client.get("/followups/?scope=branch").get_data(as_text=True)
    assert "本站的回访" in page and "外站的回访" not in page
    switch(client, login_as, outsider)
    page = client.get("/followups/?scope=branch").get_data(as_text=True)
    assert "外站的回访" in page and "本站的回访" not in page
