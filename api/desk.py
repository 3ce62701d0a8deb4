"""The desk: conversation life cycle, priority, assignment, labels, private notes, presence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.deps import PrincipalDep, SessionDep
from api.desk_schemas import (
    AssignmentCreate,
    LabelRead,
    LabelsUpdate,
    NoteCreate,
    NoteRead,
    PriorityUpdate,
)
from api.schemas import ConversationRead
from persistence.models import Conversation
from services.desk import assignment, labels, lifecycle, notes, presence

router = APIRouter(prefix="/api/v1", tags=["desk"])
ConversationId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_ERRORS: dict[int | str, dict] = {404: {}, 422: {}}


def _read(conversation: Conversation) -> ConversationRead:
    return ConversationRead.model_validate(conversation)


@router.post("/conversations/{conversation_id}/resolve", responses=_ERRORS)
def resolve(
    conversation_id: ConversationId, session: SessionDep, principal: PrincipalDep
) -> ConversationRead:
    """Resolve: the AI answers the conversation again (a takeover ends, the call for a
    person is cleared). The customer's next message reopens it."""
    return _read(lifecycle.resolve(session, conversation_id, principal))


@router.post("/conversations/{conversation_id}/reopen", responses=_ERRORS)
def reopen(
    conversation_id: ConversationId, session: SessionDep, principal: PrincipalDep
) -> ConversationRead:
    return _read(lifecycle.reopen(session, conversation_id, principal))


@router.post("/conversations/{conversation_id}/pending", responses={**_ERRORS, 409: {}})
def pending(
    conversation_id: ConversationId, session: SessionDep, principal: PrincipalDep
) -> ConversationRead:
    """Waiting for the customer; 409 while the customer's last message is unanswered."""
    return _read(lifecycle.mark_pending(session, conversation_id, principal))


@router.put("/conversations/{conversation_id}/priority", responses=_ERRORS)
def priority(
    conversation_id: ConversationId, body: PriorityUpdate, session: SessionDep,
    principal: PrincipalDep,
) -> ConversationRead:  # fmt: skip
    return _read(lifecycle.set_priority(session, conversation_id, body.priority, principal))


@router.post("/conversations/{conversation_id}/assign", responses=_ERRORS)
def assign(
    conversation_id: ConversationId, body: AssignmentCreate, session: SessionDep,
    principal: PrincipalDep,
) -> ConversationRead:  # fmt: skip
    """Make an operator responsible (`{"operator_id": null}` unassigns)."""
    return _read(assignment.assign(session, conversation_id, body.operator_id, principal))


@router.put("/conversations/{conversation_id}/labels", responses=_ERRORS)
def set_labels(
    conversation_id: ConversationId, body: LabelsUpdate, session: SessionDep,
    principal: PrincipalDep,
) -> ConversationRead:  # fmt: skip
    """Replace the labels (trimmed, lowercase, without duplicates)."""
    return _read(labels.set_labels(session, conversation_id, body.labels, principal))


@router.get("/labels")
def label_list(
    session: SessionDep, principal: PrincipalDep,
    merchant_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> list[LabelRead]:  # fmt: skip
    """Labels in use, with how many conversations carry each, most used first."""
    found = labels.merchant_labels(session, merchant_id=principal.scope(merchant_id))
    return [LabelRead(label=label, conversations=count) for label, count in found]


@router.post("/conversations/{conversation_id}/notes", status_code=201, responses=_ERRORS)
def add_note(
    conversation_id: ConversationId, body: NoteCreate, session: SessionDep,
    principal: PrincipalDep,
) -> NoteRead:  # fmt: skip
    """A private note: never sent to the customer. With `for_ai`, the AI reads it too."""
    note = notes.add(session, conversation_id, text=body.text, for_ai=body.for_ai,
                     principal=principal)  # fmt: skip
    return NoteRead.model_validate(note)


@router.get("/conversations/{conversation_id}/notes", responses=_ERRORS)
def list_notes(
    conversation_id: ConversationId, session: SessionDep, _: PrincipalDep
) -> list[NoteRead]:
    return [NoteRead.model_validate(n) for n in notes.notes_of(session, conversation_id)]


@router.post("/presence", status_code=204)
def report_presence(session: SessionDep, principal: PrincipalDep) -> Response:
    """The caller is at the desk (the console calls this while a page is open): online
    operators get conversations from the round-robin (ASSIGNMENT=round_robin)."""
    presence.seen(session, principal.operator_id)
    return Response(status_code=204)
