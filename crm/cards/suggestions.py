"""A first meeting to suggest on the card, drawn from the interests both members share."""

from flask_babel import lazy_gettext as _l

#: interest key (crm.members.vocab.INTERESTS) -> a first meeting that suits it. Order matters:
#: the first shared interest found in this table wins, so calm, easy meetings come first.
SUGGESTIONS = {
    "tea": _l("Meet over a pot of tea in a quiet tea house"),
    "hiking": _l("A weekend walk on a lakeside or hill trail"),
    "reading": _l("An afternoon in a bookshop café, each bringing a favourite book"),
    "photography": _l("A photo walk through an old street on a weekend morning"),
    "cooking": _l("Visit a food market together, then share a simple lunch"),
    "baking": _l("Try a bakery you have both wanted to visit"),
    "films": _l("Watch a film together, then talk it over with a coffee"),
    "music": _l("A small concert or a live music evening"),
    "theatre": _l("An evening of theatre or local opera"),
    "calligraphy": _l("Visit a calligraphy exhibition at the museum"),
    "painting": _l("Visit an art exhibition on a weekend afternoon"),
    "running": _l("An easy morning run in the park, then breakfast"),
    "cycling": _l("A relaxed bike ride along the greenway"),
    "badminton": _l("A friendly game of badminton at the union sports hall"),
    "table_tennis": _l("A friendly game of table tennis at the union sports hall"),
    "basketball": _l("Watch a basketball game together"),
    "swimming": _l("A swim at the sports centre, then a light meal"),
    "yoga": _l("Try a beginners' yoga class together"),
    "fitness": _l("A workout at the union gym, then a healthy lunch"),
    "board_games": _l("An afternoon at a board game café"),
    "video_games": _l("An afternoon at a board game café"),
    "travel": _l("A day trip to a nearby water town"),
    "camping": _l("A picnic in a city park"),
    "gardening": _l("A stroll through the botanical garden"),
    "pets": _l("Meet at a café where you can bring your pets"),
    "fishing": _l("A quiet morning by the lake, then lunch nearby"),
    "singing": _l("An evening at a karaoke place with a quiet room"),
    "dancing": _l("Join a dance evening at the workers' cultural palace"),
    "volunteering": _l("Take part in a union volunteer activity together"),
    "skiing": _l("A day at an indoor ski slope or a winter walk"),
}

FALLBACK = _l("Meet over a pot of tea in a quiet tea house")


def first_meeting(interests_a, interests_b) -> tuple[str | None, str]:
    """(the shared interest it is drawn from or None, the suggestion)."""
    shared = set(interests_a or ()) & set(interests_b or ())
    for key, suggestion in SUGGESTIONS.items():
        if key in shared:
            return key, str(suggestion)
    return None, str(FALLBACK)
