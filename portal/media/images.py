"""Pictures as the portal keeps them: checked by opening them, re-encoded (nothing hidden in the
file survives: EXIF, GPS, trailing bytes), turned upright by their EXIF orientation, with a
thumbnail, under random names. The image space and the goods library both store them this way."""
from __future__ import annotations

import io
import os
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _

from portal.kernel.errors import RuleError
from portal.kernel.text import whole

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
THUMB_SIZE = 400
# A kept picture's name: 128 random bits, "-t" for its thumbnail.
NAME = whole(r"[0-9a-f]{32}(?:-t)?\.(?:jpg|png|webp)")
_SAVE = {"jpg": dict(format="JPEG", quality=88), "png": dict(format="PNG", optimize=True),
         "webp": dict(format="WEBP", quality=85)}


@dataclass
class Encoded:
    ext: str
    image: object          # the upright PIL image, re-encoded on save
    width: int
    height: int


def encode(raw: bytes, field: str = "image") -> Encoded:
    """The picture in ``raw``, opened and checked; RuleError (naming ``field``) for anything that
    is not a JPEG, PNG or WebP picture within the size and pixel limits."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not raw:
        raise RuleError(_("Choose a picture."), field)
    if len(raw) > MAX_BYTES:
        raise RuleError(_("The picture is larger than 5 MB."), field)
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
            probe.verify()
        if fmt not in FORMATS:
            raise RuleError(_("Upload a JPEG, PNG or WebP picture."), field)
        image = Image.open(io.BytesIO(raw))
        if image.width * image.height > MAX_PIXELS:
            raise RuleError(_("The picture has too many pixels."), field)
        image.load()
        image = ImageOps.exif_transpose(image)
    except RuleError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise RuleError(_("Upload a JPEG, PNG or WebP picture."), field) from None
    ext = FORMATS[fmt]
    if ext == "jpg" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    return Encoded(ext=ext, image=image, width=image.width, height=image.height)


def save(folder: str, encoded: Encoded) -> tuple[str, str]:
    """Write the picture and its thumbnail (at most 400 px) into ``folder``: their names."""
    token = secrets.token_hex(16)
    name, thumb_name = f"{token}.{encoded.ext}", f"{token}-t.{encoded.ext}"
    options = _SAVE[encoded.ext]
    encoded.image.save(os.path.join(folder, name), **options)
    thumb = encoded.image.copy()
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE))
    thumb.save(os.path.join(folder, thumb_name), **options)
    return name, thumb_name


def copy(src_folder: str, name: str, thumb: str, dst_folder: str) -> tuple[str, str]:
    """A kept picture and its thumbnail copied into ``dst_folder`` under new random names."""
    import shutil

    token = secrets.token_hex(16)
    ext = name.rsplit(".", 1)[1]
    new, new_thumb = f"{token}.{ext}", f"{token}-t.{ext}"
    shutil.copyfile(os.path.join(src_folder, name), os.path.join(dst_folder, new))
    shutil.copyfile(os.path.join(src_folder, thumb), os.path.join(dst_folder, new_thumb))
    return new, new_thumb


def remove(folder: str, *names: str) -> None:
    for name in names:
        try:
            os.remove(os.path.join(folder, name))
        except FileNotFoundError:
            pass
