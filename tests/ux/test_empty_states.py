"""Empty states with guidance: a new volunteer's first-run guide, a search without results."""

from tests import factories
from tests.i18n import msg


def test_a_new_volunteer_gets_a_first_run_guide_with_links(client, db, login_as):
    login_as("volunteer")
    body = client.get("/members/").get_data(as_text=True)
    assert msg("Your caseload is empty: here is how to start") in body
    assert 'href="/members/new"' in body and 'href="/members/search?owner=pool"' in body
    assert msg("This guide disappears once members are in your caseload.") in body


def test_the_guide_disappears_once_the_volunteer_has_members(client, db, login_as):
    volunteer = login_as("volunteer")
    factories.make_member(owner=volunteer, name="李晓梅")
    db.session.commit()
    body = client.get("/members/").get_data(as_text=True)
    assert "李晓梅" in body
    assert msg("Your caseload is empty: here is how to start") not in body


def test_a_search_without_results_says_how_to_search_and_clears_the_filters(client, db, login_as):
    volunteer = login_as("volunteer")
    factories.make_member(owner=volunteer, name="李晓梅")
    db.session.commit()
    response = client.get("/members/search?q=不存在的名字", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert msg("No member matches these filters.") in body
    assert msg("Clear the filters") in body and 'href="/members/search"' in body
    assert msg("Your caseload is empty: here is how to start") not in body


def test_live_search_shows_a_loading_indicator_while_it_runs(client, db, login_as):
    login_as("volunteer")
    body = client.get("/members/").get_data(as_text=True)
    assert 'class="htmx-indicator' in body and msg("Searching…") in body


def test_empty_board_followups_and_events_say_what_to_do_next(client, db, login_as):
    login_as("volunteer")
    board = client.get("/pairings/board").get_data(as_text=True)
    assert msg("No introductions at this stage.") in board and 'href="/members/"' in board
    followups = client.get("/followups/").get_data(as_text=True)
    assert msg("No follow-ups here: nothing is waiting for you.") in followups and 'href="/members/"' in followups
    events = client.get("/events/").get_data(as_text=True)
    assert msg("Your supervisor plans the events; they appear here once announced.") in events


def test_a_supervisor_without_events_is_offered_to_plan_one(client, db, login_as):
    login_as("supervisor")
    events = client.get("/events/").get_data(as_text=True)
    assert msg("Plan the first event") in events and 'href="/events/new"' in events


def test_an_empty_counselling_home_and_team_page_say_where_things_come_from(client, db, login_as):
    login_as("counsellor")
    home = client.get("/counselling/").get_data(as_text=True)
    assert msg("Referrals appear here when a volunteer refers a member from the case file.") in home
    assert 'href="#h-queue"' in home  # the empty caseload points to the queue
    client.post("/logout", data={"csrf_token": _token(client)})
    login_as("supervisor")
    team = client.get("/members/team").get_data(as_text=True)
    assert msg("An administrator creates their accounts; then you can assign members to them here.") in team


def _token(client):
    from tests.conftest import csrf_token
    return csrf_token(client)


def test_suggestions_without_candidates_say_how_to_find_more(client, db, login_as):
    volunteer = login_as("volunteer")
    member = factories.make_member(owner=volunteer, name="李晓梅")
    db.session.commit()
    body = client.get(f"/members/{member.id}/suggestions").get_data(as_text=True)
    assert msg("No candidate passes every rule both ways right now.") in body
    assert msg("Edit the wishes") in body and f'href="/members/{member.id}/edit"' in body
