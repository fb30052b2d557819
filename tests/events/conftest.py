"""Fixtures shared by the event tests."""

from datetime import timedelta

import pytest

from crm.clock import now_utc
from crm.events import services
from crm.members.models import Gender
from tests.events.helpers import at_the_door, before_start, make_event
from tests.factories import make_member, make_user


@pytest.fixture
def held_event(db):
    """A held event: volunteer A's Ann (F) and Bea (F), volunteer B's Carl (M) and Dan (M), all attended."""
    supervisor = make_user("supervisor")
    va = make_user("volunteer", branch=supervisor.branch)
    vb = make_user("volunteer", branch=supervisor.branch)
    event = make_event(supervisor.branch, starts_at=now_utc() - timedelta(hours=3),
                       ends_at=now_utc() - timedelta(hours=1))
    people = {"ann": make_member(owner=va, name="李安", gender=Gender.FEMALE),
              "bea": make_member(owner=va, name="王蓓", gender=Gender.FEMALE),
              "carl": make_member(owner=vb, name="赵凯", gender=Gender.MALE),
              "dan": make_member(owner=vb, name="钱丹", gender=Gender.MALE)}
    with before_start(event):
        regs = {key: services.register(event, member, member.owner) for key, member in people.items()}
    with at_the_door(event):
        for registration in regs.values():
            services.check_in(registration, supervisor)
    services.mark_held(event, supervisor)
    db.session.commit()
    return {"event": event, "supervisor": supervisor, "va": va, "vb": vb, "people": people, "regs": regs}
