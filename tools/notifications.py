"""request_notification (customer) and answer_notification (staff): escalations."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, ConfigDict, Field

from graph.context import TurnContext
from persistence.db import session_scope
from services.errors import DomainError
from services.handoff.promise import closed_note_for_model
from services.notifications import notifications
from services.notifications.answers import Answerer
from services.notifications.answers import answer_notification as record_answer
from services.notifications.kinds import NotificationType


class NotificationContext(BaseModel):
    model_config = ConfigDict(extra="allow")

    question: str | None = Field(
        default=None,
        max_length=1000,
        description="The customer's question, self-contained, in their words and language.",
    )


class CustomerRequestType(StrEnum):
    """What the customer's model may open (support requests go through request_intervention).
    An enum, not a one-value Literal: that becomes "const", which tool schemas drop."""

    USER_QUESTION_REQUEST = NotificationType.USER_QUESTION_REQUEST.value


class RequestNotificationArgs(BaseModel):
    notification_type: CustomerRequestType = Field(
        description="user_question_request: a question the documents do not answer."
    )
    context: NotificationContext


@tool(
    "request_notification", args_schema=RequestNotificationArgs,
    response_format="content_and_artifact",
)  # fmt: skip
def request_notification(
    notification_type: str, context: Any, runtime: ToolRuntime[TurnContext]
) -> tuple[str, str]:
    """Ask the business's team a clear question about the business that
    search_knowledge_base did not answer. One call per distinct question; never for one
    already waiting for the team. Their answer reaches the customer in this chat later: tell
    the customer you have asked the team and will answer here; never invent an answer.
    """
    data = context.model_dump(exclude_none=True) if isinstance(context, BaseModel) else context
    ctx = runtime.context
    try:
        with session_scope() as session:
            notification = notifications.open_notification(
                session, conversation_id=ctx.conversation_id,
                notification_type=notification_type, context=data, turn_id=ctx.turn_id,
            )  # fmt: skip
            notification_id, asked_before = notification.id, notification.turn_id != ctx.turn_id
            closed = closed_note_for_model(session, ctx.conversation_id)
    except DomainError as exc:
        return f"Error: {exc.message}", f"Error: {exc.message}"
    # the artifact is what the conversation keeps after this turn (graph.nodes.agent)
    if asked_before:
        return (
            "This question is already with the team and still waiting for their answer; it "
            "was not sent again. Tell the customer it is with the team and that the answer "
            "will come here." + closed
        ), "The question was already with the team."
    asked = f"The team has been asked ({notifications.ref(notification_id)})."
    return f"{asked} Their answer will reach the customer in this chat.{closed}", asked


class AnswerNotificationArgs(BaseModel):
    notification_id: str = Field(
        max_length=40, description="The request's id with its prefix, e.g. NOTIF_123."
    )
    answer_json: str = Field(
        max_length=20000,
        description="The answer as a JSON object matching the request's answer schema, "
        'e.g. {"answer": "We open at 9am"}. Use the staff member\'s own facts; add none.',
    )


@tool("answer_notification", args_schema=AnswerNotificationArgs)
def answer_notification(
    notification_id: str, answer_json: str, runtime: ToolRuntime[TurnContext]
) -> str:
    """Record the staff member's answer to a customer's request (NOTIF_...).

    Use it when their message answers one of the requests waiting for them. The answer is
    relayed to the customer, in the customer's language. If several requests are waiting
    and it is not clear which one they answer, ask them instead of calling this.
    """
    ctx = runtime.context
    if ctx.role != "admin" or ctx.staff_user_id is None:  # never reachable by customers
        return "Error: only the business's staff can answer requests."
    try:
        with session_scope() as session:
            number = notifications.parse_ref(notification_id)
            unclear = notifications.ambiguity(
                session, merchant_user_id=ctx.staff_user_id, turn_id=ctx.turn_id,
                notification_id=number,
            )  # fmt: skip
            if unclear:
                return unclear
            record_answer(
                session, notification_id=number, answer=answer_json,
                answerer=Answerer(name=ctx.customer_name or "staff",
                                  merchant_user_id=ctx.staff_user_id),
                merchant_id=ctx.merchant_id,
            )  # fmt: skip
    except DomainError as exc:
        return f"Error: {exc.message}"
    return (
        f"{notifications.ref(number)} is answered and now closed; the customer will get the "
        "answer in their language. Confirm this to the staff member in one short sentence."
    )
