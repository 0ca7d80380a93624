"""Chinese Library Classification (中国图书馆分类法, 5th ed.) → the display categories of a community reading room.

The CLC has 22 top classes (A–Z, without L, M, W, Y); a reading room shelves and shows fewer, broader groups, the
ones public reports list for such rooms (党建, 经济, 军事政治, 历史地理, 文化艺术) plus 文学, 少儿, 科普, 生活.
The mapping is by longest matching class prefix, so a specific rule (D2 中国共产党 → 党建) wins over its top class
(D 政治、法律 → 军事政治):

| CLC prefix | class | category |
| --- | --- | --- |
| A, D2 | 马列毛邓, 中国共产党 | party 党建 |
| D (other), E | 政治法律, 军事 | military_politics 军事政治 |
| F | 经济 | economy 经济 |
| K | 历史地理 | history_geography 历史地理 |
| B, C, G, H, J, Z | 哲学宗教, 社科总论, 文教体育, 语言, 艺术, 综合 | culture_art 文化艺术 |
| I | 文学 | literature 文学 |
| I287, I28 | 儿童文学 | children 少儿 |
| N–X (N O P Q R S T U V X) | 自然科学, 医药, 农业, 工业技术, 交通, 航空航天, 环境 | science 科普 |
| TS, R1, R2, R16, G8, TU241, S68 | 轻工/烹饪, 卫生保健, 中医养生, 体育, 家居, 园艺 | life 生活 |

Children's books are chosen by audience as much as by class (a picture book about dinosaurs is Q915 but belongs on
the children's shelf), so `category_for(..., audience="children")` overrides the class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    code: str
    """Stable key: stored in `titles.category`, translated by the UI as `category.<code>`."""
    name: str
    name_en: str


CATEGORIES: tuple[Category, ...] = (
    Category("party", "党建", "Party building"),
    Category("economy", "经济", "Economy"),
    Category("military_politics", "军事政治", "Military & politics"),
    Category("history_geography", "历史地理", "History & geography"),
    Category("culture_art", "文化艺术", "Culture & art"),
    Category("literature", "文学", "Literature"),
    Category("children", "少儿", "Children"),
    Category("science", "科普", "Popular science"),
    Category("life", "生活", "Everyday life"),
)
BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}
BY_NAME: dict[str, Category] = {c.name: c for c in CATEGORIES}

TOP_CLASSES: dict[str, str] = {
    "A": "马克思主义、列宁主义、毛泽东思想、邓小平理论",
    "B": "哲学、宗教",
    "C": "社会科学总论",
    "D": "政治、法律",
    "E": "军事",
    "F": "经济",
    "G": "文化、科学、教育、体育",
    "H": "语言、文字",
    "I": "文学",
    "J": "艺术",
    "K": "历史、地理",
    "N": "自然科学总论",
    "O": "数理科学和化学",
    "P": "天文学、地球科学",
    "Q": "生物科学",
    "R": "医药、卫生",
    "S": "农业科学",
    "T": "工业技术",
    "U": "交通运输",
    "V": "航空、航天",
    "X": "环境科学、安全科学",
    "Z": "综合性图书",
}

_RULES: dict[str, str] = {
    "A": "party",
    "D2": "party",
    "D": "military_politics",
    "E": "military_politics",
    "F": "economy",
    "K": "history_geography",
    "B": "culture_art",
    "C": "culture_art",
    "G": "culture_art",
    "H": "culture_art",
    "J": "culture_art",
    "Z": "culture_art",
    "I": "literature",
    "I28": "children",
    **{top: "science" for top in "NOPQRSTUVX"},
    "TS": "life",
    "R1": "life",
    "R2": "life",
    "G8": "life",
    "TU241": "life",
    "S68": "life",
}
_LONGEST_FIRST = sorted(_RULES, key=len, reverse=True)
_CLASS_SHAPE = re.compile(r"^[A-Z]{1,2}([0-9\-][A-Z0-9.\-/:()=\"<>+]*)?$")


class InvalidClcClass(ValueError):
    """Not a CLC class number (it must start with one of the 22 top-class letters)."""


def normalise_class(raw: str) -> str:
    """Upper-case and strip spaces; `i247.5 ` → `I247.5`. Several classes ("I247.5;K825") keep only the first."""
    value = raw.strip().upper().replace(" ", "").replace("；", ";")
    value = value.split(";")[0].split(",")[0]
    if not value or value[0] not in TOP_CLASSES or not _CLASS_SHAPE.match(value):
        raise InvalidClcClass(f"{raw!r} is not a CLC class (it starts with one of {''.join(TOP_CLASSES)})")
    return value


def category_for(clc_class: str, audience: str | None = None) -> str:
    """Display category code for a class; unknown or empty classes fall back to culture_art (a general shelf)."""
    if audience == "children":
        return "children"
    try:
        value = normalise_class(clc_class)
    except InvalidClcClass:
        return "culture_art"
    compact = value.replace(".", "")
    for prefix in _LONGEST_FIRST:
        if compact.startswith(prefix):
            return _RULES[prefix]
    return "culture_art"


def category_name(code: str) -> str:
    category = BY_CODE.get(code)
    return category.name if category else code


def category_code(value: str) -> str:
    """Accept a code ("party") or a Chinese name ("党建") and return the code; unknown values raise KeyError."""
    if value in BY_CODE:
        return value
    if value in BY_NAME:
        return BY_NAME[value].code
    raise KeyError(value)
