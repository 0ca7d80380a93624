"""A demo center's location map, drawn with Pillow (a real branch stores a photo or plan of its own as
`content.map_image`, and one labelled in English as `content.map_image_en`, set with `kiosk branch edit
--content`): streets, the center and nearby centers, labelled in Chinese or English with the kiosk's CJK font, so
the demo's About screen and `kiosk screenshots` show a map as a branch would, in the visitor's language."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kiosk.traffic.charts import cjk_font_path

SIZE = (900, 600)
Name = tuple[str, str]
"""(Chinese, English): a label in each of the kiosk's languages."""
Street = tuple[int, int, int, int, int, Name, tuple[int, int]]
Place = tuple[int, int, Name, tuple[int, int, int]]
STREETS: tuple[Street, ...] = (  # (x0, y0, x1, y1, width, name, label position)
    (0, 300, 900, 300, 34, ("幸福里路", "Xingfuli Rd"), (40, 250)),
    (450, 0, 450, 600, 28, ("中山北路", "Zhongshan N Rd"), (462, 30)),
    (0, 530, 900, 500, 22, ("安康路", "Ankang Rd"), (690, 540)),
)
PLACES: tuple[Place, ...] = (  # (x, y, name, colour)
    (250, 240, ("本馆 24小时智慧书房", "This 24-hour reading room"), (168, 35, 27)),
    (500, 420, ("安康里社区中心", "Ankangli Community Center"), (31, 78, 121)),
    (500, 130, ("鼓楼区党群服务中心", "Gulou District Community Center"), (31, 78, 121)),
)
SUOJIN_STREETS: tuple[Street, ...] = (  # the demo database's branch (catalog.demo) and its nearest centers
    (0, 300, 900, 300, 34, ("锁金村路", "Suojincun Rd"), (40, 250)),
    (450, 0, 450, 600, 28, ("龙蟠路", "Longpan Rd"), (462, 30)),
    (0, 530, 900, 500, 22, ("锁金四村", "Suojin Village No. 4"), (600, 540)),
)
SUOJIN_PLACES: tuple[Place, ...] = (
    (250, 240, ("本馆 24小时智慧书房", "This 24-hour reading room"), (168, 35, 27)),
    (500, 420, ("锁金村社区党群服务中心", "Suojincun Neighbourhood Service Center"), (31, 78, 121)),
    (500, 130, ("玄武湖街道党群服务中心", "Xuanwuhu Subdistrict Service Center"), (31, 78, 121)),
)
PARK: Name = ("幸福里公园", "Xingfuli Park")
SUOJIN_PARK: Name = ("玄武湖公园", "Xuanwu Lake Park")
NORTH: Name = ("北", "N")


def draw_demo_map(path: Path, streets: Sequence[Street] = STREETS, places: Sequence[Place] = PLACES,
                  language: str = "zh", park: Name = PARK) -> bool:
    """Write the map as a PNG at `path`, labelled in `language` ("zh" or "en"); False (and nothing written)
    when there is no CJK font to label it with (the one font draws both languages on the kiosk)."""
    from PIL import Image, ImageDraw, ImageFont

    font_path = cjk_font_path()
    if font_path is None:
        return False
    pick = 1 if language == "en" else 0
    image = Image.new("RGB", SIZE, (236, 231, 218))
    draw = ImageDraw.Draw(image)
    small = ImageFont.truetype(str(font_path), 32)
    label = ImageFont.truetype(str(font_path), 40)
    draw.rectangle((40, 340, 330, 470), fill=(196, 222, 180))  # the park across the road
    draw.text((185, 405), park[pick], font=small, fill=(60, 100, 50), anchor="mm")
    for x0, y0, x1, y1, width, name, where in streets:
        draw.line((x0, y0, x1, y1), fill=(255, 255, 255), width=width)
        draw.text(where, name[pick], font=small, fill=(90, 90, 90))
    for x, y, name, colour in places:
        draw.ellipse((x - 16, y - 16, x + 16, y + 16), fill=colour, outline=(255, 255, 255), width=4)
        text = name[pick]
        font = label
        room = SIZE[0] - (x + 26) - 10
        if draw.textlength(text, font=label) > room:  # a long name: smaller, and English on more lines
            font = small
            text = _wrapped(text, draw, font, room)
        draw.multiline_text((x + 26, y - 24), text, font=font, fill=colour, spacing=4)
    draw.polygon(((860, 30), (848, 70), (872, 70)), fill=(60, 60, 60))  # north arrow
    draw.text((860, 90), NORTH[pick], font=small, fill=(60, 60, 60), anchor="mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return True


def _wrapped(text: str, draw: Any, font: Any, width: float) -> str:
    """An English name in as many lines as it needs for each to fit `width`, broken at spaces."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)
