"""Match suggestions: hard filters, a reciprocal score and explanations, as plain functions.

Nothing in this package (except :mod:`crm.matching.adapters`, :mod:`crm.matching.messages` and
:mod:`crm.matching.views`, which are imported explicitly) imports Flask or the database, so the
engine can be used, tested and evaluated on its own.

Inputs
    :class:`~crm.matching.profile.Profile` — a frozen dataclass of plain values for one member:
    gender, age, branch and the branches that share its pool, status flags (active, verified,
    consented, in a relationship or later, opted out of suggestions, open introductions), home
    and work areas (``"城市/区"`` keys), the city where they want to settle, education rank,
    height, marital history, children, interest keys, values answers (1–5) and their partner
    preferences (:class:`~crm.matching.profile.Preferences`). Pairs already introduced once are
    passed in as a set of ``(low_id, high_id)`` tuples. :class:`~crm.matching.scoring.Weights`
    holds the score weights and :class:`~crm.matching.filters.Rules` the open-introduction limit.

Hard filters (:mod:`crm.matching.filters`)
    An ordered list of named filters, each checked in both directions. A pair is a candidate
    only if every filter passes; :func:`~crm.matching.filters.first_failure` names the first
    one that fails as a :class:`~crm.matching.reasons.Reason` (a code and parameters; the web
    layer translates it through :mod:`crm.matching.messages`).

Score (:mod:`crm.matching.scoring`)
    ``fit(A→B)`` in [0, 1] says how well B fits A's wishes: shared interests weighted by their
    rarity in the pool (as a share of A's own interests), values answers, life goals (wish for
    children, where to settle), soft preferences (closeness to the middle of A's preferred age
    and height ranges) and distance (same district > same city > elsewhere), averaged with the
    :class:`Weights`. The pair's score is the harmonic mean of ``fit(A→B)`` and ``fit(B→A)``:
    it lies in [0, 1], is symmetric, and is low when either side fits poorly, even if the other
    fits perfectly. 0.5 on a component means "no information" (e.g. no answers to compare).

Speed (:mod:`crm.matching.index`)
    :class:`~crm.matching.index.SuggestionIndex` keeps the pool in numpy arrays (interests as a
    uint64 bitmask) and applies the filters and the score to every candidate at once. The
    pure-Python :func:`~crm.matching.reference.suggest` computes the same answer slowly; the
    tests hold the two to each other.
"""

from crm.matching.filters import FILTERS, Rules, failures, first_failure, passes
from crm.matching.profile import Preferences, Profile
from crm.matching.reasons import Reason
from crm.matching.scoring import InterestWeights, Weights, explain, fit, score

__all__ = ["FILTERS", "Rules", "failures", "first_failure", "passes", "Preferences", "Profile", "Reason",
           "InterestWeights", "Weights", "explain", "fit", "score"]
