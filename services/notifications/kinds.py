"""The notification registry: what each kind of escalation asks, who answers, and how.

Adding a notification type is one `NotificationKind` entry plus its pydantic schemas. The
answer schema's JSON Schema is stored on each notification row, so answers are validated
against what was asked even if the schema changes later.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.errors import InvalidInput
from services.templates.templates import TemplateRole


class NotificationType(enum.StrEnum):
    USER_QUESTION_REQUEST = "user_question_request"
    USER_SUPPORT_REQUEST = "user_support_request"


class UserQuestionRequest(BaseModel):
    question: str = Field(min_length=3, max_length=1000, description="The customer's question.")


class UserQuestionAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", title="UserQuestionAnswer")

    answer: str = Field(
        min_length=1, max_length=4000, description="The answer to the customer's question."
    )


class UserSupportRequest(BaseModel):
    support_request_reason: str = Field(
        min_length=3, max_length=1000, description="Why the customer needs support."
    )


class UserSupportRequestAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", title="UserSupportRequestAnswer")

    agent_response_to_customer: str = Field(
        min_length=1, max_length=4000, description="What to tell the customer."
    )
    resolution_notes: str | None = Field(
        default=None, max_length=4000, description="Internal notes; never sent to the customer."
    )


@dataclass(frozen=True)
class NotificationKind:
    notification_type: NotificationType
    title: str  # how people read it: "question", "support request"
    request_schema: type[BaseModel]
    requested_fields: tuple[str, ...]
    request_template: TemplateRole  # to the staff
    answer_schema: type[BaseModel]
    answered_fields: tuple[str, ...]
    answer_template: TemplateRole  # to the customer, outside the 24-hour window
    customer_text_field: str  # the answer field that reaches the customer
    requested_to: str = "merchant_user"
    answered_to: str = "conversation_user"
    allow_multiple_answers: bool = False

    def answer_json_schema(self) -> dict[str, Any]:
        return self.answer_schema.model_json_schema()


REGISTRY: dict[NotificationType, NotificationKind] = {
    NotificationType.USER_QUESTION_REQUEST: NotificationKind(
        notification_type=NotificationType.USER_QUESTION_REQUEST,
        title="question",
        request_schema=UserQuestionRequest,
        requested_fields=("question",),
        request_template=TemplateRole.MERCHANT_USER_QUESTION_REQUEST,
        answer_schema=UserQuestionAnswer,
        answered_fields=("answer",),
        answer_template=TemplateRole.MERCHANT_USER_QUESTION_ANSWER,
        customer_text_field="answer",
    ),
    NotificationType.USER_SUPPORT_REQUEST: NotificationKind(
        notification_type=NotificationType.USER_SUPPORT_REQUEST,
        title="support request",
        request_schema=UserSupportRequest,
        requested_fields=("support_request_reason",),
        request_template=TemplateRole.MERCHANT_USER_OVERRIDE_REQUEST,
        answer_schema=UserSupportRequestAnswer,
        answered_fields=("agent_response_to_customer",),
        answer_template=TemplateRole.CUSTOMER_SUPPORT_RESPONSE,
        customer_text_field="agent_response_to_customer",
    ),
}


def kind_of(notification_type: str) -> NotificationKind:
    """The registry entry for a type name (as stored, or as a model or a caller wrote it)."""
    try:
        return REGISTRY[NotificationType(str(notification_type).strip().lower())]
    except ValueError:
        known = ", ".join(t.value for t in NotificationType)
        raise InvalidInput(
            f"unknown notification type {notification_type!r}; expected one of: {known}"
        ) from None
