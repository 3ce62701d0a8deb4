"""Fold the turn's new messages (customer burst, operator and system notes) into the state."""

from __future__ import annotations

import heapq

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.runtime import Runtime

from graph.context import TurnContext
from graph.ports import TurnServices
from graph.state import ConversationState, RuntimeNode
from persistence.models import Author, Direction, MediaStatus, Message


def make_load_node(services: TurnServices) -> RuntimeNode:
    def load_turn(state: ConversationState, runtime: Runtime[TurnContext]) -> dict:
        ctx = runtime.context
        reading = services.read_turn(
            conversation_id=ctx.conversation_id,
            turn_id=ctx.turn_id,
            after_note_id=state.get("last_note_id", 0),
        )
        new = _in_order(reading.inbound, reading.notes, ctx.turn_id, reading.quoted_requests)
        update: dict = {"messages": new, "turn_id": ctx.turn_id, "reply": None}
        if reading.notes:
            update["last_note_id"] = max(n.id for n in reading.notes)
        return update

    return load_turn


def _in_order(
    inbound: list[Message], notes: list[Message], turn_id: int, replies: dict[str, str]
) -> list[AnyMessage]:
    """Operator messages and notes interleaved with the customer's burst as they happened;
    consecutive customer messages become one human turn."""
    merged = heapq.merge(
        ((m.created_at, 0, m) for m in inbound), ((n.created_at, 1, n) for n in notes),
        key=lambda item: item[0],
    )  # fmt: skip
    result: list[AnyMessage] = []
    burst: list[Message] = []
    for _, _, message in merged:
        if message.author == Author.CUSTOMER:
            burst.append(message)
            continue
        result += _customer_messages(burst, turn_id, replies)
        burst = []
        result.append(_note_message(message))
    return result + _customer_messages(burst, turn_id, replies)


def _customer_messages(
    inbound: list[Message], turn_id: int, replies: dict[str, str]
) -> list[AnyMessage]:
    """One human turn. The media stay out of the state (only text is checkpointed); the
    agent attaches them to the prompt of the turn they arrived in."""
    lines = [_quoting(m, replies) + render_inbound(m) for m in inbound]
    lines = [line for line in lines if line]
    if not lines:
        return []
    media = [m.id for m in inbound if m.media_status == MediaStatus.STORED]
    extra = {"turn_id": turn_id, "media_ids": media} if media else {}
    return [
        HumanMessage(content="\n".join(lines), id=f"in-{inbound[0].id}", additional_kwargs=extra)
    ]


def _quoting(message: Message, replies: dict[str, str]) -> str:
    """A WhatsApp reply to a notification's request message says which request it answers."""
    request = replies.get(message.context_wamid or "")
    return f"[In reply to {request}] " if request else ""


def _note_message(message: Message) -> AnyMessage:
    if message.author == Author.OPERATOR:
        name = (message.raw or {}).get("operator", "colleague")
        return AIMessage(content=f"[Operator {name}] {message.text or ''}", id=f"op-{message.id}")
    if message.direction == Direction.OUTBOUND:  # what the business number sent (templates...)
        return AIMessage(content=message.text or "", id=f"sys-{message.id}")
    return HumanMessage(content=f"[Note] {message.text or ''}", id=f"note-{message.id}")


def render_inbound(message: Message) -> str:
    """One line of text the model reads for an inbound message of any type."""
    text = (message.text or "").strip()
    if message.type == "text":
        return text
    media = message.media or {}
    kind = "voice note" if media.get("voice") else message.type
    label = f"[{kind}: {media['filename']}]" if media.get("filename") else f"[{kind}]"
    if media.get("mime_type") and message.type == "document":
        label = f"{label[:-1]}, {media['mime_type'].split(';')[0]}]"
    if message.transcript:
        text = f"{text} (transcript: {message.transcript})".strip()
    if message.media_status == MediaStatus.FAILED:
        text = f"{text} (the file could not be loaded: {message.media_error})".strip()
    return f"{label} {text}".strip()
