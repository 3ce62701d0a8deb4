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
        description="A key listed under 'Media you can send', exactly as written.",
    )
    caption: str = Field(
        default="",
        max_length=1024,
        description="Short, in the customer's language; empty: the library's caption.",
    )


@tool("respond_with_media", args_schema=MediaArgs)
def respond_with_media(media_key: str, runtime: ToolRuntime[TurnContext], caption: str = "") -> str:
    """Send the customer a file of the media library (photo, video, document, audio) when
    they ask to see something a file under 'Media you can send' shows. Only keys listed
    there exist; if none fits, say so in text. Each file at most once per answer. It is sent
    at once: then reply briefly, without repeating the caption or describing the file.
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
