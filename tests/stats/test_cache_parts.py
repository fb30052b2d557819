"""The dashboard's cache per part (crm.stats.cache.PARTS): a change recomputes only the parts that read
what changed, and every change still shows on the next view."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.clock import now_utc, today
from crm.extensions import db
from crm.followups.models import FollowUp, FollowUpKind
from crm.members import services as member_services
from crm.members.models import NoteKind
from crm.pairings import pipeline
from crm.pairings.models import Pairing, PairingCloseReason, Stage
from crm.stats import cache
from tests.factories import make_member, make_note, make_user
from tests.stats import scene

URL = "/stats/dashboard?start=2026-03-01&end=2026-04-30"


@pytest.fixture
def s(app, db):
    app.config["STATS_CACHE_SECONDS"] = 300
    cache.clear()
    yield scene.build()
    app.config["STATS_CACHE_SECONDS"] = 0
    cache.clear()


def _view(client, count_queries):
    with count_queries() as statements:
        response = client.get(URL)
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


def _without_csrf_tokens(html):
    """A CSRF token carries the second it was signed, so two views a second apart differ only there."""
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token"', html)


def test_each_change_recomputes_only_the_parts_that_read_it(s, app, client, login_as, count_queries):
    login_as("supervisor", branch=s.A)
    cold, _ = _view(client, count_queries)
    warm, _ = _view(client, count_queries)
    history, volunteers, neglected = 4, 1, 1  # funnel (2), trends, reasons; the volunteers; the neglected
    assert cold - warm == history + volunteers + neglected

    # a case note: the neglected members only
    member = make_member(branch=s.A, owner=s.vol_a, created_at=now_utc() - timedelta(days=90))
    db.session.commit()
    _view(client, count_queries)  # a new member: volunteers and neglected
    make_note(member, s.vol_a)
    db.session.commit()
    assert _view(client, count_queries)[0] == warm + neglected
    assert _view(client, count_queries)[0] == warm
    # through the service, a note also writes the member's last contact (members.updated_at moves):
    # the volunteers' caseloads are read again too, never the history
    with app.test_request_context():
        member_services.add_note(member, by=s.vol_a, kind=NoteKind.CALL, body="电话", contact_on=today())
    db.session.commit()
    assert _view(client, count_queries)[0] == warm + volunteers + neglected

    # a follow-up completed: the volunteers' overdue count and the neglected members, not the history
    followup = FollowUp(due_on=today() - timedelta(days=1), assignee_id=s.vol_a.id, member_id=member.id,
                        kind=FollowUpKind.OTHER)
    db.session.add(followup)
    db.session.commit()
    assert _view(client, count_queries)[0] == warm + volunteers + neglected
    followup.done_at = now_utc()
    db.session.commit()
    assert _view(client, count_queries)[0] == warm + volunteers + neglected

    # history: every part that reads it (a new pairing is also attention for the neglected list)
    scene.make_pair(make_member(branch=s.A, owner=s.vol_a), make_member(branch=s.B, owner=s.vol_b),
                    [(Stage.PROPOSED, scene.t(3, 3))])
    db.session.commit()
    assert _view(client, count_queries)[0] == cold
    assert _view(client, count_queries)[0] == warm

    # a move of an existing pair: its facts are recomputed (new ids), so the history part is read again
    # (so are the others here: the move writes the members' status and follow-ups)
    pairing = db.session.scalars(select(Pairing).where(Pairing.stage.not_in([Stage.CLOSED, Stage.MARRIED]))).first()
    with app.test_request_context():
        pipeline.move(pairing, Stage.CLOSED, make_user("admin", branch=s.A),
                      close_reason=PairingCloseReason.LOST_CONTACT)
    db.session.commit()
    assert _view(client, count_queries)[0] == cold


def test_a_part_kept_from_before_a_change_shows_the_same_figures_as_a_fresh_view(s, client, login_as,
                                                                                count_queries, app):
    login_as("supervisor", branch=s.A)
    _view(client, count_queries)
    make_note(make_member(branch=s.A, owner=s.vol_a), s.vol_a)  # recomputes the neglected part only
    db.session.commit()
    _, partly_kept = _view(client, count_queries)
    cache.clear()
    _, fresh = _view(client, count_queries)
    assert _without_csrf_tokens(partly_kept) == _without_csrf_tokens(fresh)
