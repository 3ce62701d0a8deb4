"""Fold the turn's new messages (customer burst, operator messages, notes) into the state.

Customer text is data, never markup: square brackets in it become parentheses, so only
Switchboard writes the "[Operator ...]", "[In reply to ...]" or "[image: ...]" markers the
model reads, and card numbers are masked before any model sees them.
"""

from __future__ import annotations

import heapq
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.runtime import Runtime

from graph.context import TurnContext
from graph.nodes.route import ai_answers
from graph.ports import TurnReading, TurnServices
from graph.prompts import without_markers
from graph.state import ConversationState, RuntimeNode, TeamNote
from persistence.models import IMAGE_TYPES, Author, Direction, MediaStatus, Message

# A burst written this long after the conversation's previous message says when it was.
GAP_MARKED = timedelta(hours=6)

# Notes shown to the model (in the system prompt): the newest few; older ones have been
# acted on, and the conversation itself keeps what was passed on.
NOTES_KEPT = 8

# Images are described as they are stored (services.media.description), most often before
# their turn runs; one that was not yet is described in the prompts of the next few turns,
# once it is.
DESCRIPTION_CHECKS = 3

# A card number as customers type it: 13 to 19 digits, spaces or dashes between groups.
_CARD_NUMBER = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


def make_load_node(services: TurnServices) -> RuntimeNode:
    def load_turn(state: ConversationState, runtime: Runtime[TurnContext]) -> dict:
        ctx = runtime.context
        seen = state.get("last_note_id", 0)
        reading = ctx.reading
        if reading is None or reading.notes_after != seen:
            reading = services.read_turn(
                conversation_id=ctx.conversation_id, turn_id=ctx.turn_id, after_note_id=seen
            )
        notes = [n for n in reading.notes if n.direction == Direction.NOTE]
        said = [n for n in reading.notes if n.direction != Direction.NOTE]
        new = _in_order(reading.inbound, said, ctx.turn_id, reading)
        if reading.inbound and reading.previous_at is not None:
            new = _with_gap_marker(new, reading.inbound[0], reading.previous_at, ctx.timezone)
        update: dict = {
            "messages": [*described_since(state.get("messages", []), services), *new],
            "turn_id": ctx.turn_id,
            "reply": None,
            "notes_only": bool(notes) and not reading.inbound,
            "answers": ai_answers(reading),
        }
        if reading.notes:
            update["last_note_id"] = max(n.id for n in reading.notes)
        if notes:
            arrived = [TeamNote(id=n.id, turn_id=ctx.turn_id, text=n.text or "") for n in notes]
            update["team_notes"] = [*state.get("team_notes", []), *arrived][-NOTES_KEPT:]
        return update

    return load_turn


def _in_order(
    inbound: list[Message], notes: list[Message], turn_id: int, reading: TurnReading
) -> list[AnyMessage]:
    """What operators and the business number said, interleaved with the customer's burst
    as it happened; consecutive customer messages become one human turn."""
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
        result += _customer_messages(burst, turn_id, reading)
        burst = []
        result.append(_note_message(message))
    return result + _customer_messages(burst, turn_id, reading)


def _with_gap_marker(
    new: list[AnyMessage], first: Message, previous_at: datetime, timezone: str
) -> list[AnyMessage]:
    """Say when the customer wrote, if it was long after the conversation last spoke: "I'll
    come by tomorrow" means something else three days later."""
    written = first.wa_timestamp or first.created_at
    gap = written - previous_at
    index = next((i for i, m in enumerate(new) if isinstance(m, HumanMessage)), None)
    if gap < GAP_MARKED or index is None:
        return new
    local = written.astimezone(ZoneInfo(timezone))
    marker = f"[Written {local:%A %-d %B, %H:%M}, {_duration(gap)} after the previous message]"
    message = new[index]
    marked = message.model_copy(update={"content": f"{marker}\n{message.content}"})
    return [*new[:index], marked, *new[index + 1 :]]


def _duration(gap: timedelta) -> str:
    days, hours = gap.days, gap.seconds // 3600
    if days:
        return f"{days} day{'s' if days > 1 else ''}"
    return f"{hours} hours"


def _customer_messages(
    inbound: list[Message], turn_id: int, reading: TurnReading
) -> list[AnyMessage]:
    """One human turn. The media stay out of the state (only text is checkpointed); the
    agent attaches them to the prompt of the turn they arrived in."""
    replies = reading.quoted_requests
    lines = [_quoting(m, replies) + render_inbound(m, reading.choices.get(m.id)) for m in inbound]
    lines = [line for line in lines if line]
    if not lines:
        return []
    media = [m.id for m in inbound if m.media_status == MediaStatus.STORED]
    extra: dict = {"turn_id": turn_id, "media_ids": media} if media else {}
    undescribed = [
        m.id for m in inbound
        if m.id in media and m.type in IMAGE_TYPES and m.transcript is None
    ]  # fmt: skip
    if undescribed:
        extra |= {"undescribed": undescribed, "description_checks": DESCRIPTION_CHECKS}
    return [
        HumanMessage(content="\n".join(lines), id=f"in-{inbound[0].id}", additional_kwargs=extra)
    ]


def described_since(history: list[AnyMessage], services: TurnServices) -> list[AnyMessage]:
    """Earlier customer messages whose images have been described since their turn, with
    the descriptions in (replacing them in the state); one read, only when some wait."""
    waiting = [
        m for m in history
        if isinstance(m, HumanMessage) and m.additional_kwargs.get("undescribed")
    ]  # fmt: skip
    if not waiting:
        return []
    ids = [i for m in waiting for i in m.additional_kwargs["undescribed"]]
    now = {m.id: m for m in services.inbound_messages(ids)}
    return [_with_descriptions(m, now) for m in waiting]


def _with_descriptions(message: HumanMessage, now: dict[int, Message]) -> HumanMessage:
    """Each described image's line as render_inbound writes it now (the images' lines are
    in their order); the message stops waiting once all are described or it has been
    looked at DESCRIPTION_CHECKS times."""
    extra = dict(message.additional_kwargs)
    lines = str(message.content).split("\n")
    waiting, after = [], 0
    for message_id in extra.pop("undescribed"):
        image = now.get(message_id)
        if image is None:
            continue  # deleted meanwhile
        written = render_inbound(Message(**_rendered_fields(image)))
        at = next((i for i in range(after, len(lines)) if lines[i].endswith(written)), None)
        if at is None:
            continue
        after = at + 1
        if image.transcript is None:
            waiting.append(message_id)
        else:
            lines[at] = lines[at][: -len(written)] + render_inbound(image)
    checks = extra.pop("description_checks", 1) - 1
    if waiting and checks > 0:
        extra |= {"undescribed": waiting, "description_checks": checks}
    return message.model_copy(update={"content": "\n".join(lines), "additional_kwargs": extra})


def _rendered_fields(message: Message) -> dict:
    """What render_inbound reads of a message, but its description: its line as written
    before it had one."""
    return {
        "type": message.type, "text": message.text, "media": message.media,
        "media_status": message.media_status, "media_error": message.media_error,
    }  # fmt: skip


def _quoting(message: Message, replies: dict[str, str]) -> str:
    """A WhatsApp reply to a notification's request message says which request it answers."""
    request = replies.get(message.context_wamid or "")
    return f"[In reply to {request}] " if request else ""


def _note_message(message: Message) -> AnyMessage:
    """What the business said to the customer: the assistant's side of the conversation."""
    if message.author == Author.OPERATOR:
        name = (message.raw or {}).get("operator", "colleague")
        said = f"[Operator {name}] {message.text or ''}{_offered(message)}"
        return AIMessage(content=said, id=f"op-{message.id}")
    if message.author == Author.BUSINESS_APP:  # the business, typing on its own phone
        text = f"[Operator (WhatsApp Business app)] {message.text or ''}"
        return AIMessage(content=text, id=f"app-{message.id}")
    return AIMessage(content=message.text or "", id=f"sys-{message.id}")  # templates, notices


def _offered(message: Message) -> str:
    """The options an operator's message offered as buttons or a list (raw["offer"], our
    own record of it); numbered text already lists them."""
    offer = (message.raw or {}).get("offer") or {}
    titles = [str(o.get("title", "")) for o in offer.get("options") or []]
    if not titles or offer.get("sent_as") == "numbered":
        return ""
    return " [Options offered: " + "; ".join(customer_text(t) for t in titles) + "]"


def customer_text(text: str) -> str:
    """Customer-written text as the model may read it: no markers, no card numbers."""
    return _CARD_NUMBER.sub(_mask_card, without_markers(text))


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "(card number removed)" if _is_card_number(digits) else match.group()


def _is_card_number(digits: str) -> bool:
    """Luhn-valid, and too long for a phone number (E.164 has at most 15 digits) unless
    it is a 15-digit American Express number."""
    if not (len(digits) >= 16 or (len(digits) == 15 and digits[:2] in ("34", "37"))):
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def render_inbound(message: Message, choice: tuple[str, str] | None = None) -> str:
    """One line of text the model reads for an inbound message of any type; `choice`: the
    (id, title) of the option it chose, a tapped button or a number answering a list."""
    text = customer_text(message.text or "").strip()
    if choice is not None:
        option_id, title = (customer_text(part) for part in choice)
        chose = f"(chose: {title}, id {option_id})"
        return f"{text} {chose}" if message.type == "text" else chose
    if message.type == "text":
        return text
    media = message.media or {}
    kind = "voice note" if media.get("voice") else message.type
    filename = customer_text(media.get("filename") or "")
    label = f"[{kind}: {filename}]" if filename else f"[{kind}]"
    if media.get("mime_type") and message.type == "document":
        label = f"{label[:-1]}, {media['mime_type'].split(';')[0]}]"
    if message.transcript:  # a voice note's transcript, an image's description
        said = "transcript" if message.type == "audio" else "description"
        text = f"{text} ({said}: {customer_text(message.transcript)})".strip()
    if message.media_status == MediaStatus.FAILED:
        text = f"{text} (the file could not be loaded: {message.media_error})".strip()
    return f"{label} {text}".strip()
