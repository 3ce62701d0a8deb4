"""Operators take conversations over, talk to the customer, and hand them back."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import PrincipalDep, SessionDep
from api.schemas import (
    ConversationRead,
    ConversationRef,
    HandbackCreate,
    MessageRead,
    OperatorMessageCreate,
    OperatorMessageResult,
)
from persistence.models import DeliveryStatus, Message
from services.access.auth import Principal
from services.conversations.conversation import get_conversation
from services.errors import NotFound
from services.handoff import handoff
from services.handoff.flows import send_operator_message

router = APIRouter(prefix="/api/v1", tags=["operators"])


def _ref(body: ConversationRef, principal: Principal) -> handoff.ConversationRef:
    return handoff.ConversationRef(
        body.conversation_id, body.customer, body.phone_number_id, principal.merchant_id
    )


@router.post("/takeover", responses={404: {}, 409: {}})
def takeover(
    body: ConversationRef, session: SessionDep, principal: PrincipalDep
) -> ConversationRead:
    """Take the conversation from the AI. From the moment this returns, no AI message
    reaches the customer until handback; their messages are stored and shown here."""
    conversation = handoff.takeover(session, _ref(body, principal), principal)
    return ConversationRead.model_validate(conversation)


@router.post(
    "/operator-message",
    response_model=OperatorMessageResult,
    responses={404: {}, 409: {}, 502: {}},
)
def operator_message(
    body: OperatorMessageCreate, session: SessionDep, principal: PrincipalDep
) -> OperatorMessageResult | JSONResponse:
    """Send a WhatsApp message to the customer as the operator (after takeover, within
    the 24-hour customer service window): `text`, or a library file by `media_key` with
    `text` as its caption; `options` turn the text into reply buttons or a list."""
    message_id, status = send_operator_message(
        _ref(body, principal), principal, body.text, media_key=body.media_key, options=body.options
    )
    sent = session.get(Message, message_id)
    if sent is None:  # its conversation was deleted meanwhile
        raise NotFound(f"message {message_id} no longer exists")
    result = OperatorMessageResult(
        conversation=ConversationRead.model_validate(
            get_conversation(session, sent.conversation_id)
        ),
        message=MessageRead.model_validate(sent),
    )
    if status == DeliveryStatus.FAILED:
        detail = f"WhatsApp refused the message: {result.message.error_detail}"
        return JSONResponse({"detail": detail, **result.model_dump(mode="json")}, status_code=502)
    return result


@router.post("/handback", responses={404: {}, 409: {}})
def handback(
    body: HandbackCreate, session: SessionDep, principal: PrincipalDep
) -> ConversationRead:
    """Give the conversation back to the AI. If the customer's last message is unanswered,
    the AI answers it now with the whole history (and the optional note) in context.
    When no AI can answer (no LLM configured, or its providers failing now) nothing is sent
    to the customer: the conversation stays flagged `needs_human`, with the reason."""
    conversation, _ = handoff.handback(session, _ref(body, principal), principal, note=body.note)
    return ConversationRead.model_validate(conversation)
