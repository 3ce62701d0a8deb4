"""respond_with_media: send a file from the merchant's media library."""

from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, Field

from graph.context import TurnContext
from persistence.db import session_scope
from persistence.models import DeliveryStatus
from services.delivery.flows import send_asset
from services.errors import DomainError
from services.media.library import get_asset_by_key, library_summary

_SENT = {
    DeliveryStatus.ACCEPTED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ,
    DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN,
}  # fmt: skip


class MediaArgs(BaseModel):
    media_key: str = Field(
        max_length=100,
        description="The key of one file listed under 'Media you can send', exactly as written "
        "there (for example: red-shoe). Never invent a key.",
    )
    caption: str = Field(
        default="",
        max_length=1024,
        description="Optional short text shown with the image, video or document, in the "
        "customer's language. Leave empty to use the library's own caption.",
    )


@tool("respond_with_media", args_schema=MediaArgs)
def respond_with_media(media_key: str, runtime: ToolRuntime[TurnContext], caption: str = "") -> str:
    """Send the customer a file from the business's media library (a product photo, a video,
    a catalogue or price list document, an audio message).

    Use it when the customer asks to see a product, a photo, a video, the catalogue or a
    document, and a file under 'Media you can send' matches what they asked for. Only keys
    from that list exist; if none fits, say so in text instead. Send each file at most once
    per answer. The file is sent at once; afterwards, reply with a short text (do not repeat
    the caption or describe the file in detail).
    """
    ctx = runtime.context
    with session_scope() as session:
        asset = get_asset_by_key(session, ctx.merchant_id, media_key.strip())
        if asset is None:
            return _unknown_key(media_key, library_summary(session, ctx.merchant_id))
        asset_id, default_caption = asset.id, asset.caption
    try:
        status, detail = send_asset(
            conversation_id=ctx.conversation_id, turn_id=ctx.turn_id, asset_id=asset_id,
            caption=caption.strip() or default_caption,
        )  # fmt: skip
    except DomainError as exc:
        return f"Error: could not send {media_key}: {exc.message}. Answer in text instead."
    if status in _SENT:
        return f"sent {media_key}"
    if status == DeliveryStatus.DROPPED:
        return f"not sent {media_key}: a human colleague has taken over this conversation."
    return f"Error: could not send {media_key} ({detail}). Answer in text instead."


def _unknown_key(media_key: str, library: list[tuple[str, str, str]]) -> str:
    if not library:
        return (
            f"Error: there is no media {media_key!r}: the media library is empty, so there is "
            "nothing to send. Answer in text."
        )
    keys = ", ".join(key for key, _, _ in library)
    return (
        f"Error: there is no media {media_key!r}. Valid keys: {keys}. Call respond_with_media "
        "again with one of these exactly, or answer in text if none fits."
    )
