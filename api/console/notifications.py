"""Notifications: customers' questions and support requests escalated to the merchant's
staff, updated live; answered here with a form made from each one's answer schema,
through the same service as the HTTP API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.console.answer_form import AnswerField, answer_fields, answer_from_form, typed_answer
from api.console.auth import ConsoleUser, ConsoleUserDep, FormUserDep
from api.console.templating import render
from api.deps import SessionDep
from persistence.models import Notification
from services.errors import Conflict, InvalidInput, NotFound
from services.merchants.merchant import list_merchants
from services.notifications import inbox as notification_inbox
from services.notifications import notifications
from services.notifications.answers import Answerer, answer_notification
from services.notifications.kinds import REGISTRY, kind_of

router = APIRouter(prefix="/console/notifications", include_in_schema=False)

NotificationId = Annotated[int, Path(ge=1, le=notifications.INT32_MAX)]
STATUS_LABELS = {"": "All", "requested": "Waiting", "answered": "Answered"}
TYPE_LABELS = {t.value: kind.title.capitalize() for t, kind in REGISTRY.items()}


def _filters(status: str, type: str, merchant_id: int | None) -> dict[str, Any]:
    """Unknown filter values show everything rather than an error page."""
    return {
        "status": status if status in STATUS_LABELS else "",
        "type": type if type in TYPE_LABELS else "",
        "merchant_id": merchant_id,
    }


def _list_context(db: Session, filters: dict[str, Any]) -> dict[str, Any]:
    counts = notification_inbox.status_counts(
        db, merchant_id=filters["merchant_id"], notification_type=filters["type"] or None
    )
    counts[""] = sum(counts.values())
    rows = notification_inbox.notification_rows(
        db, merchant_id=filters["merchant_id"], status=filters["status"] or None,
        notification_type=filters["type"] or None,
    )  # fmt: skip
    return {**filters, "rows": rows, "counts": counts, "statuses": STATUS_LABELS}


@router.get("")
def notifications_page(
    request: Request,
    db: SessionDep,
    user: ConsoleUserDep,
    status: str = "",
    type: str = "",
    merchant_id: int | None = None,
) -> Response:
    context = _list_context(db, _filters(status, type, user.principal.scope(merchant_id)))
    own = user.principal.scope()
    context.update(user=user, merchants=list_merchants(db, merchant_id=own), types=TYPE_LABELS)
    return render(request, "notifications.html", context)


@router.get("/rows")
def notification_rows(
    request: Request,
    db: SessionDep,
    user: ConsoleUserDep,
    status: str = "",
    type: str = "",
    merchant_id: int | None = None,
) -> Response:
    """The live part of the list, polled by the page."""
    context = _list_context(db, _filters(status, type, user.principal.scope(merchant_id)))
    return render(request, "_notification_rows.html", {**context, "user": user})


def _fields(notification: Notification) -> list[AnswerField]:
    """The answer form, from the schema stored when the notification was opened."""
    customer_field = kind_of(notification.type).customer_text_field
    return answer_fields(notification.answer_schema, customer_field=customer_field)


def _detail(
    request: Request,
    db: Session,
    user: ConsoleUser,
    notification_id: int,
    *,
    typed: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        notification = notifications.get_notification(db, notification_id)
    except NotFound as exc:
        context = {"user": user, "detail": exc.message}
        return render(request, "not_found.html", context, status_code=404)
    (row,) = notification_inbox.rows_of(db, [notification])
    context = {
        "user": user, "n": row, "fields": _fields(notification),
        "answerable": row.is_open or notification.allow_multiple_answers,
        "typed": typed or {}, "error": error,
    }  # fmt: skip
    return render(request, "notification.html", context, status_code=status_code)


@router.get("/{notification_id}")
def notification_page(
    request: Request, notification_id: NotificationId, db: SessionDep, user: ConsoleUserDep
) -> Response:
    return _detail(request, db, user, notification_id)


@router.get("/{notification_id}/state")
def notification_state(
    request: Request, notification_id: NotificationId, db: SessionDep, user: ConsoleUserDep
) -> Response:
    """The live part of one notification: its status, recipients and delivery."""
    notification = notifications.get_notification(db, notification_id)
    (row,) = notification_inbox.rows_of(db, [notification])
    context = {"user": user, "n": row, "fields": _fields(notification)}
    return render(request, "_notification_state.html", context)


@router.post("/{notification_id}/answer")
def answer(
    request: Request,
    notification_id: NotificationId,
    db: SessionDep,
    user: FormUserDep,
    typed: Annotated[dict[str, str], Depends(typed_answer)],
) -> Response:
    try:
        notification = notifications.get_notification(db, notification_id)
        answer_notification(
            db, notification_id=notification_id,
            answer=answer_from_form(_fields(notification), typed),
            answerer=Answerer(name=user.principal.name, operator_id=user.principal.operator_id),
        )  # fmt: skip
    except (InvalidInput, Conflict, NotFound) as exc:
        db.rollback()
        code = exc.status_code
        return _detail(request, db, user, notification_id, typed=typed, error=exc.message,
                       status_code=code)  # fmt: skip
    ref = notifications.ref(notification_id)
    user.flash(f"{ref} answered: the answer is on its way to the customer.", "ok")
    return RedirectResponse(f"/console/notifications/{notification_id}", status_code=303)
