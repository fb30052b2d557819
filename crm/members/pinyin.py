"""Pinyin keys for searching and sorting Chinese names."""

import re

from pypinyin import Style, lazy_pinyin

# pypinyin reads these characters with their common reading; as surnames they read differently.
SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao", "查": "zha",
    "盖": "ge", "乐": "yue", "覃": "qin", "尉": "yu", "缪": "miao", "翟": "zhai", "召": "shao",
    "繁": "po", "秘": "bi", "种": "chong", "员": "yun", "黑": "he", "句": "gou", "华": "hua",
}


def name_keys(name: str) -> tuple[str, str]:
    """("zhangwei", "zw") for 张伟: the full pinyin and the initials, lowercase, no spaces."""
    # Latin parts of a name (Anna·李) are kept as words, so that they can be searched too.
    syllables = [word for chunk in lazy_pinyin(name, style=Style.NORMAL)
                 for word in re.findall(r"[a-z]+", chunk.lower())]
    if syllables and name[:1] in SURNAME_READINGS:
        syllables[0] = SURNAME_READINGS[name[0]]
    return "".join(syllables), "".join(s[0] for s in syllables)
