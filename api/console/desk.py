"""The desk on the conversation page: resolve and reopen, priority, assignee, labels,
private notes, and the composer's /shortcut suggestions (canned responses)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.console.auth import ConsoleUser, ConsoleUserDep, FormUserDep
from api.deps import SessionDep
from persistence.models import Priority
from services.conversations.conversation import conversation_parties
from services.desk import assignment, canned, labels, lifecycle, notes
from services.errors import DomainError

router = APIRouter(prefix="/console/conversations", include_in_schema=False)


def _back(db: Session, user: ConsoleUser, conversation_id: int, action: Callable[[], Any],
          done: str) -> Response:  # fmt: skip
    try:
        action()
    except DomainError as exc:
        db.rollback()
        user.flash(exc.message, "error")
    else:
        user.flash(done, "ok")
    return RedirectResponse(f"/console/conversations/{conversation_id}#desk", status_code=303)


@router.post("/{conversation_id}/resolve")
def resolve(conversation_id: int, db: SessionDep, user: FormUserDep) -> Response:
    return _back(db, user, conversation_id,
                 lambda: lifecycle.resolve(db, conversation_id, user.principal),
                 "Resolved: the AI answers this conversation again.")  # fmt: skip


@router.post("/{conversation_id}/reopen")
def reopen(conversation_id: int, db: SessionDep, user: FormUserDep) -> Response:
    return _back(db, user, conversation_id,
                 lambda: lifecycle.reopen(db, conversation_id, user.principal),
                 "Reopened.")  # fmt: skip


@router.post("/{conversation_id}/pending")
def pending(conversation_id: int, db: SessionDep, user: FormUserDep) -> Response:
    return _back(db, user, conversation_id,
                 lambda: lifecycle.mark_pending(db, conversation_id, user.principal),
                 "Pending: waiting for the customer.")  # fmt: skip


@router.post("/{conversation_id}/priority")
def priority(
    conversation_id: int, db: SessionDep, user: FormUserDep,
    priority: Annotated[Priority, Form()],
) -> Response:  # fmt: skip
    return _back(db, user, conversation_id,
                 lambda: lifecycle.set_priority(db, conversation_id, priority, user.principal),
                 f"Priority: {priority}.")  # fmt: skip


@router.post("/{conversation_id}/assign")
def assign(
    conversation_id: int, db: SessionDep, user: FormUserDep,
    operator_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:  # fmt: skip
    chosen = int(operator_id) if operator_id.isdigit() else None
    return _back(db, user, conversation_id,
                 lambda: assignment.assign(db, conversation_id, chosen, user.principal),
                 "Assigned." if chosen else "Unassigned.")  # fmt: skip


@router.post("/{conversation_id}/labels")
def set_labels(
    conversation_id: int, db: SessionDep, user: FormUserDep,
    labels_text: Annotated[str, Form(alias="labels", max_length=1200)] = "",
) -> Response:  # fmt: skip
    wanted = [part for part in labels_text.split(",") if part.strip()]
    return _back(db, user, conversation_id,
                 lambda: labels.set_labels(db, conversation_id, wanted, user.principal),
                 "Labels saved.")  # fmt: skip


@router.post("/{conversation_id}/notes")
def add_note(
    conversation_id: int, db: SessionDep, user: FormUserDep,
    text: Annotated[str, Form(max_length=4000)] = "",
    for_ai: Annotated[bool, Form()] = False,
) -> Response:  # fmt: skip
    if not text.strip():
        user.flash("Write the note first.", "error")
        return RedirectResponse(f"/console/conversations/{conversation_id}#desk", status_code=303)
    done = "Note added; the AI reads it too." if for_ai else "Private note added."
    return _back(db, user, conversation_id,
                 lambda: notes.add(db, conversation_id, text=text.strip(), for_ai=for_ai,
                                   principal=user.principal), done)  # fmt: skip


@router.get("/{conversation_id}/canned")
def canned_suggestions(
    conversation_id: int, db: SessionDep, user: ConsoleUserDep, prefix: str = ""
) -> JSONResponse:
    """The composer's /shortcut list: the merchant's canned responses starting with
    `prefix`, rendered for this conversation."""
    _, _, phone = conversation_parties(db, conversation_id)
    found = canned.listed(db, merchant_id=phone.merchant_id, prefix=prefix[:64])[:8]
    rendered = [
        (c, canned.render(db, c.id, conversation_id=conversation_id, principal=user.principal))
        for c in found
    ]
    return JSONResponse([
        {"shortcut": c.shortcut, "text": r.text, "unknown": r.unknown} for c, r in rendered
    ])  # fmt: skip
