"""Canned responses: saved replies with {{variables}}, found by /shortcut in the console."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.deps import PrincipalDep, SessionDep
from api.desk_schemas import (
    CannedResponseCreate,
    CannedResponseRead,
    CannedResponseUpdate,
    RenderCreate,
    RenderedRead,
)
from services.desk import canned

router = APIRouter(prefix="/api/v1", tags=["desk"])
CannedId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/canned-responses")
def list_canned(
    session: SessionDep, principal: PrincipalDep,
    merchant_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    prefix: Annotated[str | None, Query(max_length=64, description="Shortcuts starting so.")]
    = None,
) -> list[CannedResponseRead]:  # fmt: skip
    found = canned.listed(session, merchant_id=principal.scope(merchant_id), prefix=prefix)
    return [CannedResponseRead.model_validate(c) for c in found]


@router.post("/canned-responses", status_code=201, responses={404: {}, 409: {}})
def create_canned(
    body: CannedResponseCreate, session: SessionDep, _: PrincipalDep
) -> CannedResponseRead:
    made = canned.create(session, merchant_id=body.merchant_id, shortcut=body.shortcut,
                         text=body.text)  # fmt: skip
    return CannedResponseRead.model_validate(made)


@router.get("/canned-responses/{canned_id}", responses={404: {}})
def get_canned(canned_id: CannedId, session: SessionDep, _: PrincipalDep) -> CannedResponseRead:
    return CannedResponseRead.model_validate(canned.get(session, canned_id))


@router.put("/canned-responses/{canned_id}", responses={404: {}, 409: {}})
def update_canned(
    canned_id: CannedId, body: CannedResponseUpdate, session: SessionDep, _: PrincipalDep
) -> CannedResponseRead:
    changed = canned.update(session, canned_id, shortcut=body.shortcut, text=body.text)
    return CannedResponseRead.model_validate(changed)


@router.delete("/canned-responses/{canned_id}", status_code=204, responses={404: {}})
def delete_canned(canned_id: CannedId, session: SessionDep, _: PrincipalDep) -> Response:
    canned.delete(session, canned_id)
    return Response(status_code=204)


@router.post("/canned-responses/{canned_id}/render", responses={404: {}})
def render_canned(
    canned_id: CannedId, body: RenderCreate, session: SessionDep, principal: PrincipalDep
) -> RenderedRead:
    """The text for one conversation, variables filled; `unknown` lists the ones left
    visible (unknown names, or no value such as a customer without a name)."""
    rendered = canned.render(session, canned_id, conversation_id=body.conversation_id,
                             principal=principal)  # fmt: skip
    return RenderedRead(text=rendered.text, unknown=rendered.unknown)
