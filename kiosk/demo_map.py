"""A demo center's location map, drawn with Pillow (a real branch stores a photo or plan of its own as
`content.map_image`, set with `kiosk branch set-content`): streets, the center and nearby centers, labelled in
Chinese with the kiosk's CJK font, so the demo's About screen and `kiosk screenshots` show a map as a branch would."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kiosk.traffic.charts import cjk_font_path

SIZE = (900, 600)
Street = tuple[int, int, int, int, int, str, tuple[int, int]]
Place = tuple[int, int, str, tuple[int, int, int]]
STREETS: tuple[Street, ...] = (  # (x0, y0, x1, y1, width, name, label position)
    (0, 300, 900, 300, 34, "幸福里路", (40, 250)),
    (450, 0, 450, 600, 28, "中山北路", (462, 30)),
    (0, 530, 900, 500, 22, "安康路", (720, 540)),
)
PLACES: tuple[Place, ...] = (  # (x, y, name, colour)
    (250, 240, "本馆 24小时智慧书房", (168, 35, 27)),
    (500, 420, "安康里社区中心", (31, 78, 121)),
    (500, 130, "鼓楼区党群服务中心", (31, 78, 121)),
)
SUOJIN_STREETS: tuple[Street, ...] = (  # the demo database's branch (catalog.demo) and its nearest centers
    (0, 300, 900, 300, 34, "锁金村路", (40, 250)),
    (450, 0, 450, 600, 28, "龙蟠路", (462, 30)),
    (0, 530, 900, 500, 22, "锁金四村", (720, 540)),
)
SUOJIN_PLACES: tuple[Place, ...] = (
    (250, 240, "本馆 24小时智慧书房", (168, 35, 27)),
    (500, 420, "锁金村社区党群服务中心", (31, 78, 121)),
    (500, 130, "玄武湖街道党群服务中心", (31, 78, 121)),
)


def draw_demo_map(path: Path, streets: Sequence[Street] = STREETS, places: Sequence[Place] = PLACES) -> bool:
    """Write the map as a PNG at `path`; False (and nothing written) when there is no CJK font to label it with."""
    from PIL import Image, ImageDraw, ImageFont

    font_path = cjk_font_path()
    if font_path is None:
        return False
    image = Image.new("RGB", SIZE, (236, 231, 218))
    draw = ImageDraw.Draw(image)
    small = ImageFont.truetype(str(font_path), 32)
    label = ImageFont.truetype(str(font_path), 40)
    draw.rectangle((40, 340, 330, 470), fill=(196, 222, 180))  # the park across the road
    draw.text((90, 385), "幸福里公园", font=small, fill=(60, 100, 50))
    for x0, y0, x1, y1, width, name, where in streets:
        draw.line((x0, y0, x1, y1), fill=(255, 255, 255), width=width)
        draw.text(where, name, font=small, fill=(90, 90, 90))
    for x, y, name, colour in places:
        draw.ellipse((x - 16, y - 16, x + 16, y + 16), fill=colour, outline=(255, 255, 255), width=4)
        draw.text((x + 26, y - 24), name, font=label, fill=colour)
    draw.polygon(((860, 30), (848, 70), (872, 70)), fill=(60, 60, 60))  # north arrow
    draw.text((851, 74), "北", font=small, fill=(60, 60, 60))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return True
