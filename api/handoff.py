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
from services.templates.chosen import TemplateChoice

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
    responses={202: {"model": OperatorMessageResult}, 404: {}, 409: {}, 422: {}, 502: {}},
)
def operator_message(
    body: OperatorMessageCreate, session: SessionDep, principal: PrincipalDep
) -> OperatorMessageResult | JSONResponse:
    """Send a WhatsApp message to the customer as the operator (after takeover): `text`,
    a library file by `media_key` with `text` as its caption, or an approved `template`
    (any of the merchant's, GET /api/v1/templates; 422 when it is unknown, not approved,
    needs parameters we cannot fill yet, or its parameter count is wrong); `options`
    turn the text into reply buttons or a list.

    Outside the 24-hour customer service window a text or file cannot go out: it is
    stored `parked` (202), the customer gets one re-engagement template, and the parked
    messages follow, in order, as soon as the customer writes."""
    template = None
    if body.template is not None:
        t = body.template
        template = TemplateChoice(
            t.name, t.language, tuple(t.parameters), tuple(t.header_parameters)
        )
    message_id, status = send_operator_message(
        _ref(body, principal), principal, body.text, media_key=body.media_key,
        options=body.options, template=template,
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
    if status == DeliveryStatus.PARKED:
        return JSONResponse(result.model_dump(mode="json"), status_code=202)
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
