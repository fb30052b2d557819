"""The driver of the random-write tests of kept data (crm.stats.facts, crm.pairings.consent_stage,
crm.members.attention): steps picked by weight, one erasure late in the run, each step flushed and checked."""

from collections import Counter

from crm.errors import Refusal
from crm.extensions import db


def run(rng, steps: dict, weights: dict, *, rounds: int, erase_at: int, erase, check) -> Counter:
    """``rounds`` steps; at ``erase_at``, ``erase()`` instead. A step the services refuse is skipped; after each
    step that happened, the flush, then ``check(i, name)``. Returns how often each step (and "erase") ran."""
    done = Counter()
    for i in range(rounds):
        name = rng.choices(list(weights), weights=list(weights.values()))[0]
        if i == erase_at:
            name = "erase"
            erase()
        else:
            try:
                steps[name]()
            except Refusal:
                continue
        db.session.flush()
        done[name] += 1
        check(i, name)
    return done
