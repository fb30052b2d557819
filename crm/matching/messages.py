"""Words for the engine's reasons, in the user's language (the engine itself knows only codes)."""

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from crm.matching.reasons import Reason
from crm.members import vocab

#: Hard filters: why a pair is not suggested. Keys: code, or (code, side).
FILTER_MESSAGES = {
    "same_person": _l("This is the same member."),
    "gender": _l("Same gender: suggestions are for the opposite gender."),
    ("inactive", "candidate"): _l("The candidate is not active."),
    ("inactive", "member"): _l("This member is not active."),
    ("unverified", "candidate"): _l("The candidate is not fully verified yet."),
    ("unverified", "member"): _l("This member is not fully verified yet."),
    ("no_consent", "candidate"): _l("The candidate has not given consent to matching."),
    ("no_consent", "member"): _l("This member has not given consent to matching."),
    ("in_relationship", "candidate"): _l("The candidate is in a relationship."),
    ("in_relationship", "member"): _l("This member is in a relationship."),
    ("opted_out", "candidate"): _l("The candidate has opted out of suggestions."),
    ("opted_out", "member"): _l("This member has opted out of suggestions."),
    "paired_before": _l("These two were introduced before; a pair is never suggested twice."),
    "branch": _l("Their branches do not share members."),
    ("open_limit", "candidate"): _l("The candidate already has %(count)s open introduction(s) (limit %(limit)s)."),
    ("open_limit", "member"): _l("This member already has %(count)s open introduction(s) (limit %(limit)s)."),
    ("age", "candidate"): _l("The candidate's age (%(age)s) is outside this member's wish (%(min)s–%(max)s)."),
    ("age", "member"): _l("This member's age (%(age)s) is outside the candidate's wish (%(min)s–%(max)s)."),
    ("districts", "candidate"): _l("The candidate neither lives nor works in this member's districts (%(districts)s)."),
    ("districts", "member"): _l("This member neither lives nor works in the candidate's districts (%(districts)s)."),
    ("divorced", "candidate"): _l("This member does not accept a divorced partner."),
    ("divorced", "member"): _l("The candidate does not accept a divorced partner."),
    ("children", "candidate"): _l("This member does not accept a partner with children."),
    ("children", "member"): _l("The candidate does not accept a partner with children."),
    ("height", "candidate"): _l("The candidate's height (%(height)s) is outside this member's wish (%(min)s–%(max)s)."),
    ("height", "member"): _l("This member's height (%(height)s) is outside the candidate's wish (%(min)s–%(max)s)."),
    ("education", "candidate"): _l("The candidate's education is below this member's minimum (%(min)s)."),
    ("education", "member"): _l("This member's education is below the candidate's minimum (%(min)s)."),
}

#: Status filters about a candidate whose case file the user cannot open are told as one.
PRIVATE_CODES = {"inactive", "unverified", "no_consent", "in_relationship", "opted_out", "open_limit"}
NOT_AVAILABLE = _l("The candidate is not available for suggestions at the moment.")

SCORE_MESSAGES = {
    "shared_interests": _l("Both enjoy %(interests)s"),
    "same_settle_city": _l("Both want to settle in %(city)s"),
    "agree_children": _l("Same wish about children"),
    "ages_in_range": _l("Ages within each other's wishes"),
    "similar_values": _l("Similar answers on values"),
    "same_district": _l("Both in %(district)s"),
    "same_city": _l("Both in %(city)s"),
    "no_shared_interests": _l("No interests in common"),
    "different_settle_city": _l("Want to settle in different cities (%(city)s / %(other)s)"),
    "disagree_children": _l("Different wishes about children"),
    "different_values": _l("Rather different answers on values"),
    "far_apart": _l("Live and work in different cities"),
    "one_sided": _l("One side fits the other's wishes much better than the reverse"),
}


def _join(items) -> str:
    zh = str(get_locale() or "zh_CN").startswith("zh")
    return ("、" if zh else ", ").join(str(i) for i in items)


def _education_label(rank):
    from crm.members.models import Education
    return str(list(Education)[rank].label) if isinstance(rank, int) and 0 <= rank < len(Education) else ""


def _params(reason: Reason) -> dict:
    p = dict(reason.params)
    if "interests" in p:
        p["interests"] = _join(vocab.INTERESTS.get(k, k) for k in p["interests"])
    if "districts" in p:
        p["districts"] = _join(d.partition("/")[2] or d for d in p["districts"])
    if reason.code == "education":
        p["min"] = _education_label(p.get("min"))
    return {k: ("—" if v in ("", None) else v) for k, v in p.items()}


def filter_message(reason: Reason, *, candidate_visible: bool = True) -> str:
    if not candidate_visible and reason.side == "candidate" and reason.code in PRIVATE_CODES:
        return str(NOT_AVAILABLE)
    template = FILTER_MESSAGES.get((reason.code, reason.side)) or FILTER_MESSAGES.get(reason.code)
    return str(template) % _params(reason) if template is not None else reason.code


def score_message(reason: Reason) -> str:
    template = SCORE_MESSAGES.get(reason.code)
    return str(template) % _params(reason) if template is not None else reason.code


def sentence(reasons) -> str:
    """Reasons joined into one line: 都喜欢滑雪、徒步；都想在杭州定居."""
    zh = str(get_locale() or "zh_CN").startswith("zh")
    return ("；" if zh else "; ").join(score_message(r) for r in reasons)
