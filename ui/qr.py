"""QR codes as Kivy textures, each made once per payload and reused (no texture is created per frame)."""

from __future__ import annotations

from collections import OrderedDict

import qrcode
from kivy.graphics.texture import Texture
from PIL import Image

_CACHE: OrderedDict[str, Texture] = OrderedDict()
_CACHE_SIZE = 64


def qr_texture(payload: str) -> Texture:
    texture = _CACHE.get(payload)
    if texture is not None:
        _CACHE.move_to_end(payload)
        return texture
    code = qrcode.QRCode(border=2, box_size=8, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(payload)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    image = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)  # Kivy textures start at the bottom row
    texture = Texture.create(size=image.size, colorfmt="rgb")
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    texture.blit_buffer(image.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
    _CACHE[payload] = texture
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return texture


def forget(payload: str) -> None:
    """Drop a personal payload (a receipt) once its screen is gone."""
    _CACHE.pop(payload, None)
