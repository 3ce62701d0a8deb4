"""The handoff state machine between the AI and human operators.

    ai --takeover--> operator --handback (or idle timeout)--> ai
    ai --request_intervention--> ai + needs_human (AI paused) --takeover/handback--> ...

Every change locks the conversation row FOR UPDATE. An AI send holds the same row FOR KEY
SHARE while it talks to the Graph API (services.delivery.outbox), so once takeover() commits, no
AI message can reach the customer until handback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from observability.metrics import ESCALATIONS_OPENED
from persistence import jobs
from persistence.models import (
    Author,
    Conversation,
    ConversationMode,
    DeliveryStatus,
    Direction,
    MediaAsset,
    Message,
    PhoneNumber,
    Turn,
    TurnResult,
)
from services.access.auth import Principal
from services.conversations import audit
from services.conversations.conversation import (
    conversation_parties,
    find_conversation,
    get_conversation,
    lock_conversation,
)
from services.conversations.window import SERVICE_WINDOW, PersonReach, within_service_window
from services.errors import Conflict, InvalidInput, NotFound
from services.events import events
from services.handoff.availability import ai_availability
from services.handoff.phrases import HOLDING, phrase
from services.handoff.promise import closed_promise
from services.handoff.reach import operator_reach, tag_human_agent
from services.interactive.offer import MAX_OPTIONS, Offer, offer_from_options
from services.interactive.service import enqueue_offer
from services.media.library import get_asset_by_key, library_summary
from services.media.send import enqueue_asset
from services.parking import parking
from services.templates.chosen import TemplateChoice, chosen_template
from services.templates.templates import enqueue_built
from settings import get_settings


@dataclass(frozen=True)
class ConversationRef:
    conversation_id: int | None = None
    customer: str | None = None
    phone_number_id: str | None = None
    merchant_id: int | None = None  # the caller's merchant: other merchants' are not found


def locate(session: Session, ref: ConversationRef) -> int:
    if ref.conversation_id is not None:
        return get_conversation(session, ref.conversation_id, merchant_id=ref.merchant_id).id
    if ref.customer:
        return find_conversation(
            session,
            customer=ref.customer,
            phone_number_id=ref.phone_number_id,
            merchant_id=ref.merchant_id,
        ).id
    raise NotFound("name the conversation by conversation_id or by customer")


lock = lock_conversation  # the name the handoff's callers know


# who has a conversation the business answered from the WhatsApp Business app
# (services.handoff.business_app); an operator may take it from there
BUSINESS_APP = "WhatsApp Business app"
INSTAGRAM_APP = "Instagram app"  # the same for a reply typed in the Instagram app


def held_by_business_app(conversation: Conversation) -> bool:
    return (
        conversation.mode == ConversationMode.OPERATOR
        and conversation.assigned_operator_id is None
        and conversation.assigned_to in (BUSINESS_APP, INSTAGRAM_APP)
    )


def takeover(session: Session, ref: ConversationRef, principal: Principal) -> Conversation:
    conversation = lock(session, locate(session, ref))
    now = datetime.now(UTC)
    if conversation.mode == ConversationMode.OPERATOR and not held_by_business_app(conversation):
        if _is_assignee(conversation, principal):
            return conversation
        raise Conflict(
            f"conversation {conversation.id} is already taken over by "
            f"{conversation.assigned_to}; ask them to hand it back (POST /api/v1/handback) first"
        )
    conversation.mode = ConversationMode.OPERATOR
    conversation.assigned_operator_id = principal.operator_id
    conversation.assigned_to = principal.name
    if principal.operator_id is not None:  # the desk: whoever takes over is responsible
        conversation.assignee_id = principal.operator_id
    conversation.taken_over_at = now
    conversation.operator_active_at = now
    conversation.needs_human = False
    conversation.needs_human_since = None
    audit.record(session, conversation_id=conversation.id, action="takeover", principal=principal)
    events.emit(session, "taken_over", conversation_id=conversation.id, operator=principal.name)
    return conversation


def handback(
    session: Session,
    ref: ConversationRef,
    principal: Principal | None,
    *,
    note: str | None = None,
    reason: str = "handback",
) -> tuple[Conversation, bool]:
    """Return the conversation to the AI. True when the customer's last message waits for
    an answer: a turn then runs once this commits.

    With no AI able to answer (no LLM configured, or its providers failing now) nothing is
    asked of it: the conversation stays flagged for a person, and the customer, just
    served by one, gets no holding message or follow-up."""
    conversation = lock(session, locate(session, ref))
    if conversation.mode != ConversationMode.OPERATOR:
        raise Conflict(
            f"conversation {conversation.id} is already with the AI: nothing to hand back"
        )
    conversation.mode = ConversationMode.AI
    conversation.assigned_operator_id = None
    conversation.assigned_to = None
    conversation.needs_human = False
    conversation.needs_human_since = None
    if note:
        add_note(session, conversation.id, f"Note from {_who(principal)} at handback: {note}")
    ai = ai_availability(session)
    answer_now = ai.available and customer_waiting(session, conversation.id)
    conversation.reply_requested = answer_now
    if answer_now:
        jobs.enqueue(session, "switchboard.turn.flush", conversation.id)
    audit.record(
        session,
        conversation_id=conversation.id,
        action=reason,
        principal=principal,
        detail={"note": note} if note else {},
    )
    events.emit(
        session, "handed_back", conversation_id=conversation.id, operator=_who(principal),
        reason=reason, answering_now=answer_now,
    )  # fmt: skip
    if not ai.available:
        why = f"Handed back, but {ai.reason}: a person must answer"
        request_human(session, conversation.id, why)
        conversation.followed_up_at = datetime.now(UTC)  # a person was the last to answer
    return conversation, answer_now


def add_note(session: Session, conversation_id: int, text: str) -> Message:
    """Context for the AI that the customer never sees."""
    note = Message(
        conversation_id=conversation_id,
        direction=Direction.NOTE,
        author=Author.SYSTEM,
        type="note",
        text=text,
        status=DeliveryStatus.RECEIVED,
        send_attempts=0,
    )
    session.add(note)
    session.flush()
    return note


def customer_waiting(session: Session, conversation_id: int) -> bool:
    """Whether the last message exchanged with the customer is theirs (notes aside, and
    the chat history imported from the WhatsApp Business app, which is the past)."""
    imported = select(Turn.id).where(
        Turn.conversation_id == conversation_id, Turn.outcome == TurnResult.IMPORTED
    )
    last = session.scalar(
        select(Message.direction)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction != Direction.NOTE,
            Message.status != DeliveryStatus.DROPPED,
            Message.type != "reaction",
            or_(Message.turn_id.is_(None), Message.turn_id.not_in(imported)),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    return last == Direction.INBOUND


@dataclass(frozen=True)
class PreparedMessage:
    message: Message
    reengagement_id: int | None = None  # the template to send first, when it was parked


def prepare_operator_message(
    session: Session,
    ref: ConversationRef,
    principal: Principal,
    text: str | None,
    *,
    media_key: str | None = None,
    options: list[str] | None = None,
    template: TemplateChoice | None = None,
    offer: Offer | None = None,
) -> PreparedMessage:
    """Check the rules and put the operator's message in the outbox (sent after commit).
    With `media_key`, the library file is sent and `text` is its caption; with `options`,
    `text` goes with them as reply buttons or a list (numbered text beyond their limits);
    `template` is sent instead of text, inside the window or outside it; `offer` is an
    interactive message made by a service (a checkout link button). Outside the window
    anything else is parked until the customer writes, and a re-engagement template asks
    them to."""
    _check_options(text, media_key, options)
    conversation = lock(session, locate(session, ref))
    if conversation.mode != ConversationMode.OPERATOR:
        raise Conflict(
            f"conversation {conversation.id} is with the AI: take it over first "
            "(POST /api/v1/takeover), then send"
        )
    reach = operator_reach(session, conversation, template=template is not None)
    conversation.operator_active_at = datetime.now(UTC)
    if template is not None:
        message = _operator_template(session, conversation, principal, template)
    elif offer is not None:
        message = enqueue_offer(
            session, conversation_id=conversation.id, offer=offer, author=Author.OPERATOR,
            operator_id=principal.operator_id, raw={"operator": principal.name},
        )  # fmt: skip
    elif options:
        message = enqueue_offer(
            session, conversation_id=conversation.id, offer=offer_from_options(text or "", options),
            author=Author.OPERATOR, operator_id=principal.operator_id,
            raw={"operator": principal.name},
        )  # fmt: skip
    elif media_key:
        message = enqueue_asset(
            session, conversation_id=conversation.id,
            asset=_library_asset(session, conversation, media_key), caption=text or "",
            author=Author.OPERATOR, operator_id=principal.operator_id,
            raw={"operator": principal.name},
        )  # fmt: skip
    else:
        message = _operator_text(session, conversation, principal, text or "")
    reengagement = None
    if reach == PersonReach.HUMAN_AGENT:
        tag_human_agent(message)
    elif template is None and reach == PersonReach.TEMPLATE:
        parking.park(message)
        reengagement = parking.reengage(session, conversation)
    audit.record(
        session, conversation_id=conversation.id, action="operator_message",
        principal=principal, detail={"message_id": message.id, "status": message.status.value},
    )  # fmt: skip
    return PreparedMessage(message, reengagement)


def _operator_text(
    session: Session, conversation: Conversation, principal: Principal, text: str
) -> Message:
    message = Message(
        conversation_id=conversation.id,
        direction=Direction.OUTBOUND,
        author=Author.OPERATOR,
        type="text",
        text=text,
        status=DeliveryStatus.PENDING,
        operator_id=principal.operator_id,
        send_attempts=0,
        raw={"operator": principal.name},
    )
    session.add(message)
    session.flush()
    return message


def _check_options(text: str | None, media_key: str | None, options: list[str] | None) -> None:
    if options is None:
        return
    if media_key:
        raise InvalidInput("options go with a text message, not with a library file")
    if not (text or "").strip():
        raise InvalidInput("options need a text: the question they answer")
    if not 1 <= len(options) <= MAX_OPTIONS or not all(o.strip() for o in options):
        raise InvalidInput(f"give 1 to {MAX_OPTIONS} options, none of them empty")
def _operator_template(
    session: Session, conversation: Conversation, principal: Principal, choice: TemplateChoice
) -> Message:
    phone = session.get(PhoneNumber, conversation.phone_number_id)
    assert phone is not None
    filled = chosen_template(
        session, merchant_id=phone.merchant_id, name=choice.name, language=choice.language,
        parameters=choice.parameters, header=choice.header,
    )  # fmt: skip
    return enqueue_built(
        session, conversation_id=conversation.id, message=filled, author=Author.OPERATOR,
        raw={"operator": principal.name}, operator_id=principal.operator_id,
    )  # fmt: skip


def _library_asset(session: Session, conversation: Conversation, key: str) -> MediaAsset:
    phone = session.get(PhoneNumber, conversation.phone_number_id)
    assert phone is not None
    asset = get_asset_by_key(session, phone.merchant_id, key)
    if asset is None:
        keys = ", ".join(k for k, _, _ in library_summary(session, phone.merchant_id)) or "none"
        raise NotFound(f"no file {key!r} in the merchant's media library (keys: {keys})")
    return asset


def request_human(session: Session, conversation_id: int, reason: str) -> bool:
    """The AI (or a failure) asks for a person. Announced once per escalation; True when
    this call opened it."""
    conversation = lock(session, conversation_id)
    conversation.needs_human_reason = reason[:2000]
    if conversation.needs_human:
        return False
    now = datetime.now(UTC)
    conversation.needs_human = True
    conversation.needs_human_since = now
    ESCALATIONS_OPENED.labels("needs_human").inc()
    conversation.announced_at = now
    conversation.followed_up_at = None
    audit.record(session, conversation_id=conversation_id, action="needs_human",
                 detail={"reason": reason})  # fmt: skip
    events.emit(session, "needs_human", conversation_id=conversation_id, reason=reason)
    if conversation.assignee_id is None and get_settings().assignment == "round_robin":
        jobs.enqueue(session, "switchboard.housekeeping.route_conversation", conversation_id)
    return True


HOLDING_TEXT = HOLDING["en"]


def escalate_after_failure(session: Session, conversation_id: int, reason: str) -> str | None:
    """The AI cannot answer (providers down, a runaway or stuck turn): flag the conversation
    for a person. The holding message to send the customer the first time, None after:
    the customer hears it at most once per escalation (it counts as the follow-up), and
    never when a person was the last to answer them."""
    if not request_human(session, conversation_id, reason):
        return None
    conversation = lock(session, conversation_id)
    if conversation.mode != ConversationMode.AI or not within_service_window(conversation):
        return None
    conversation.followed_up_at = datetime.now(UTC)
    if _just_answered_by_a_person(session, conversation_id):
        return None  # they know a person is there; news of a technical problem would surprise
    _, customer, _ = conversation_parties(session, conversation_id)
    closed = closed_promise(session, conversation_id)
    return phrase(HOLDING, customer.language) + (f" {closed}" if closed else "")


def _just_answered_by_a_person(session: Session, conversation_id: int) -> bool:
    """Whether the last answer the customer got came from an operator, in this window."""
    last = session.execute(
        select(Message.author, Message.created_at)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.OUTBOUND,
            Message.status != DeliveryStatus.DROPPED,
        )
        .order_by(Message.id.desc())
        .limit(1)
    ).first()
    recent = datetime.now(UTC) - SERVICE_WINDOW
    return last is not None and last.author == Author.OPERATOR and last.created_at > recent


def unclaimed_escalations(session: Session, *, older_than: datetime) -> list[int]:
    stmt = select(Conversation.id).where(
        Conversation.needs_human.is_(True),
        Conversation.mode == ConversationMode.AI,
        Conversation.announced_at < older_than,
    )
    return list(session.scalars(stmt.order_by(Conversation.id).limit(500)))


def reannounce(session: Session, conversation_id: int) -> bool:
    """Announce an unclaimed escalation again. True when the customer should get a
    follow-up (once per escalation)."""
    conversation = lock(session, conversation_id)
    if not conversation.needs_human or conversation.mode != ConversationMode.AI:
        return False
    conversation.announced_at = datetime.now(UTC)
    events.emit(
        session, "needs_human", conversation_id=conversation_id,
        reason=conversation.needs_human_reason, reannounced=True,
    )  # fmt: skip
    audit.record(session, conversation_id=conversation_id, action="needs_human_reannounced")
    follow_up = conversation.followed_up_at is None and within_service_window(conversation)
    if follow_up:
        conversation.followed_up_at = conversation.announced_at
    return follow_up


def idle_takeovers(session: Session, *, older_than: datetime) -> list[int]:
    stmt = select(Conversation.id).where(
        Conversation.mode == ConversationMode.OPERATOR,
        Conversation.operator_active_at < older_than,
    )
    return list(session.scalars(stmt.order_by(Conversation.id).limit(500)))


def hand_back_if_idle(
    session: Session, conversation_id: int, *, idle_seconds: float
) -> bool | None:
    """Give a taken-over conversation back to the AI when its operator has been inactive
    for `idle_seconds`. None: still active (or not taken over); else whether the AI
    should answer now."""
    conversation = lock(session, conversation_id)
    cutoff = datetime.now(UTC) - timedelta(seconds=idle_seconds)
    active = conversation.operator_active_at
    if conversation.mode != ConversationMode.OPERATOR or (active and active >= cutoff):
        return None
    minutes = round(idle_seconds / 60)
    note = f"The operator was inactive for {minutes} minutes; the conversation went back to the AI."
    _, answer_now = handback(
        session, ConversationRef(conversation_id), None, note=note, reason="auto_handback"
    )
    return answer_now


def _is_assignee(conversation: Conversation, principal: Principal) -> bool:
    return (
        conversation.assigned_operator_id == principal.operator_id
        and conversation.assigned_to == principal.name
    )


def _who(principal: Principal | None) -> str:
    return principal.name if principal else "the system"
