"""Images described in words, once, when they are stored.

The model sees a photo as an image only in the turn it arrives; later turns (and
operators, and models that cannot see) keep what it showed as a short description on the
message, as voice notes keep their transcript. The light model writes it while the burst
buffer is still open, so the turn does not wait for it.
"""

from __future__ import annotations

from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from graph.llm import METERED, LLMNotConfigured, build_structured_model
from observability.logs import get_logger
from persistence.db import session_scope
from persistence.models import IMAGE_TYPES, MediaStatus, Message
from services.media.understanding import image_block
from settings import get_settings

log = get_logger(__name__)

_INSTRUCTION = (
    "A customer sent this image to a shop's WhatsApp. Describe it in one or two factual "
    "sentences for a colleague who cannot see it: what it shows (products, brand, colour, "
    "size labels, damage, a receipt or screen and the text on it). Do not guess intentions."
)


class ImageDescription(BaseModel):
    description: str = Field(description="One or two factual sentences.")


def describe_stored_image(message_id: int) -> str | None:
    """Describe a stored image message and keep it on the message; None when it is no
    stored image, is described already, or no model could say."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if (
            message is None
            or message.type not in IMAGE_TYPES
            or message.media_status != MediaStatus.STORED
            or message.transcript is not None
        ):
            return None
        block = image_block(message)
    if block is None:
        return None
    description = _describe(block)
    if description:
        with session_scope() as session:
            stored = session.get(Message, message_id)
            if stored is not None and stored.transcript is None:
                stored.transcript = description
    return description


def _describe(block: dict) -> str | None:
    try:
        model = build_structured_model(get_settings(), ImageDescription)
        prompt = HumanMessage(content=[{"type": "text", "text": _INSTRUCTION}, block])
        result = model.invoke([prompt], config=METERED)
    except LLMNotConfigured:
        return None
    except Exception as exc:  # the image is still shown in its own turn
        log.warning("media.describe.failed", error=type(exc).__name__)
        return None
    assert isinstance(result, ImageDescription)
    return " ".join(result.description.split())[:500] or None
