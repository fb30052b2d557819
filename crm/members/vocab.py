"""Fixed vocabularies: places, interests and the values questionnaire.

Interests and values are keys stored on the member; their labels translate. Places are data
(Chinese administrative names) and are shown as they are in every language.
"""

from flask_babel import lazy_gettext as _l

CITIES: dict[str, list[str]] = {
    "杭州市": ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区", "富阳区", "临安区"],
    "济南市": ["历下区", "市中区", "槐荫区", "天桥区", "历城区", "长清区", "章丘区"],
    "张家口市": ["桥东区", "桥西区", "宣化区", "下花园区", "万全区", "崇礼区"],
    "北京市": ["东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "通州区", "昌平区", "大兴区"],
}


def area_choices(blank=None):
    """Choices grouped by city for a select of "city/district" values."""
    from wtforms.fields.choices import SelectChoice

    options = [SelectChoice(f"{city}/{d}", d, optgroup=city) for city, districts in CITIES.items() for d in districts]
    return ([SelectChoice("", blank)] if blank else []) + options


def is_known_area(value: str) -> bool:
    city, _, district = (value or "").partition("/")
    return district in CITIES.get(city, [])


INTERESTS = {
    "hiking": _l("Hiking"), "skiing": _l("Skiing"), "running": _l("Running"),
    "badminton": _l("Badminton"), "basketball": _l("Basketball"), "swimming": _l("Swimming"),
    "cycling": _l("Cycling"), "yoga": _l("Yoga"), "fitness": _l("Fitness"),
    "photography": _l("Photography"), "travel": _l("Travel"), "cooking": _l("Cooking"),
    "baking": _l("Baking"), "tea": _l("Tea"), "reading": _l("Reading"),
    "films": _l("Films"), "music": _l("Music"), "singing": _l("Singing"),
    "dancing": _l("Dancing"), "calligraphy": _l("Calligraphy"), "painting": _l("Painting"),
    "board_games": _l("Board games"), "video_games": _l("Video games"), "fishing": _l("Fishing"),
    "gardening": _l("Gardening"), "pets": _l("Pets"), "volunteering": _l("Volunteering"),
    "theatre": _l("Theatre and opera"), "camping": _l("Camping"), "table_tennis": _l("Table tennis"),
}

# A short questionnaire on a 1–5 scale; the labels name what 1 and 5 mean.
VALUES_QUESTIONS = {
    "wants_children": (_l("Wish for children"), _l("No children"), _l("Certainly children")),
    "settle_near_family": (_l("Where to settle"), _l("Anywhere"), _l("Near my parents")),
    "family_vs_career": (_l("Family or career"), _l("Career first"), _l("Family first")),
    "lifestyle": (_l("Lifestyle"), _l("Quiet, at home"), _l("Outgoing, active")),
    "spending": (_l("Money"), _l("Save carefully"), _l("Enjoy life now")),
    "household_roles": (_l("Household roles"), _l("Traditional"), _l("Shared equally")),
}

OCCUPATION_CATEGORIES = {
    "manufacturing": _l("Manufacturing worker"), "engineering": _l("Engineer / technician"),
    "it": _l("IT and software"), "education": _l("Teacher / education"),
    "healthcare": _l("Healthcare"), "public_service": _l("Public service"),
    "finance": _l("Finance"), "retail": _l("Retail and service"),
    "transport": _l("Transport and logistics"), "construction": _l("Construction"),
    "energy": _l("Energy and utilities"), "other": _l("Other"),
}
