"""The business profile photo as WhatsApp takes it: JPEG or PNG, at most 5 MB, at least
192 x 192 pixels (WhatsApp shows it cropped to a circle, at most 640 px across). Checked
here, by the image's own bytes (not the name or the type the browser claimed), so a bad
file is a 422 with its reason before Meta is asked."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from services.errors import InvalidInput

MAX_BYTES = 5 * 1024 * 1024
MIN_SIDE = 192
MIME_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class ProfilePhoto:
    data: bytes
    mime_type: str


def checked_photo(data: bytes) -> ProfilePhoto:
    if not data:
        raise InvalidInput("the photo is empty")
    if len(data) > MAX_BYTES:
        raise InvalidInput("the photo is larger than WhatsApp's 5 MB limit")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError):
        raise InvalidInput("the photo must be a JPEG or PNG image") from None
    if kind not in MIME_TYPES:
        raise InvalidInput(f"the photo must be a JPEG or PNG image, not {kind}")
    if min(width, height) < MIN_SIDE:
        raise InvalidInput(
            f"the photo is {width} x {height} pixels; WhatsApp needs at least "
            f"{MIN_SIDE} x {MIN_SIDE} (640 x 640 is best)"
        )
    return ProfilePhoto(data, MIME_TYPES[str(kind)])
