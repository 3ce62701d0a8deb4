"""Notifications (escalations to the merchant's staff): list, open, answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from api.deps import PrincipalDep, SessionDep
from persistence.models import NotificationStatus
from services.notifications import notifications
from services.notifications.answers import Answerer, answer_notification
from services.notifications.kinds import NotificationType

router = APIRouter(prefix="/api/v1", tags=["notifications"])

NotificationId = Annotated[int, Path(ge=1, le=notifications.INT32_MAX)]


class RecipientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    merchant_user_id: int
    name: str
    type: str
    conversation_id: int
    request_message_id: int | None
    request_status: str | None


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ref: str
    type: str
    status: str
    merchant_id: int
    conversation_id: int
    context: dict[str, Any]
    answer: dict[str, Any] | None
    answer_schema: dict[str, Any]
    allow_multiple_answers: bool
    target_user_type: str | None
    document_id: int | None
    recipients: list[RecipientRead]
    created_at: datetime
    dispatched_at: datetime | None
    answered_at: datetime | None
    answered_by: str | None
    claimed_by: str | None  # who tapped "I'll answer" on the request
    claimed_at: datetime | None
    delivered_at: datetime | None
    delivery_method: str | None
    error: str | None


class NotificationCreate(BaseModel):
    conversation_id: int = Field(ge=1, le=notifications.INT32_MAX)
    notification_type: NotificationType
    context: dict[str, Any] = Field(
        description='user_question_request: {"question": str}; '
        'user_support_request: {"support_request_reason": str}'
    )


class AnswerCreate(BaseModel):
    """The answer as a JSON object (`answer`) or as JSON text (`answer_json`), as the
    admin agent's tool takes it."""

    answer: dict[str, Any] | None = None
    answer_json: str | None = Field(default=None, max_length=20000)

    @model_validator(mode="after")
    def _one_of(self) -> AnswerCreate:
        if (self.answer is None) == (self.answer_json is None):
            raise ValueError("give exactly one of answer (object) or answer_json (string)")
        return self


def _read(session: Session, notification_id: int) -> NotificationRead:
    notification = notifications.get_notification(session, notification_id)
    return NotificationRead.model_validate(
        {
            **{c: getattr(notification, c) for c in NotificationRead.model_fields if c not in
               ("ref", "recipients", "status")},
            "status": str(notification.status),
            "ref": notifications.ref(notification.id),
            "recipients": [
                RecipientRead.model_validate(r)
                for r in notifications.recipients_of(session, notification.id)
            ],
        }
    )  # fmt: skip


@router.get("/notifications")
def list_notifications(
    session: SessionDep,
    principal: PrincipalDep,
    merchant_id: int | None = None,
    status: NotificationStatus | None = None,
    type: NotificationType | None = None,
    conversation_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[NotificationRead]:
    """Notifications, newest first, with optional filters."""
    rows = notifications.list_notifications(
        session, merchant_id=principal.scope(merchant_id), status=status,
        conversation_id=conversation_id, notification_type=type, limit=limit, offset=offset,
    )  # fmt: skip
    return [_read(session, row.id) for row in rows]


@router.get("/notifications/{notification_id}", responses={404: {}})
def get_notification(
    notification_id: NotificationId, session: SessionDep, _: PrincipalDep
) -> NotificationRead:
    return _read(session, notification_id)


@router.post("/notifications", status_code=status.HTTP_201_CREATED, responses={404: {}, 422: {}})
def open_notification(
    body: NotificationCreate, session: SessionDep, _: PrincipalDep
) -> NotificationRead:
    """Escalate a customer's question or support request to the merchant's staff, as the
    agent's tools do. Sending to the staff happens in the background."""
    notification = notifications.open_notification(
        session, conversation_id=body.conversation_id,
        notification_type=body.notification_type, context=body.context,
    )  # fmt: skip
    return _read(session, notification.id)


@router.post("/notifications/{notification_id}/answer", responses={404: {}, 409: {}, 422: {}})
def answer(
    notification_id: NotificationId, body: AnswerCreate, session: SessionDep,
    principal: PrincipalDep,
) -> NotificationRead:  # fmt: skip
    """Answer a notification, as a staff member would from WhatsApp: validated against its
    answer schema; 409 once it is answered (single-answer notifications)."""
    answer_notification(
        session, notification_id=notification_id,
        answer=body.answer if body.answer is not None else body.answer_json or "",
        answerer=Answerer(name=principal.name, operator_id=principal.operator_id),
    )  # fmt: skip
    return _read(session, notification_id)
