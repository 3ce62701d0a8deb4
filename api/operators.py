"""Operator accounts: admins create them (the token is shown once) and revoke them."""

from fastapi import APIRouter, status

from api.deps import AdminDep, SessionDep
from api.schemas import OperatorCreate, OperatorCreated, OperatorRead
from services.merchants import operator as operators

router = APIRouter(prefix="/api/v1", tags=["administration"])


@router.post("/operators", status_code=status.HTTP_201_CREATED)
def create_operator(
    body: OperatorCreate, session: SessionDep, principal: AdminDep
) -> OperatorCreated:
    """Create an operator of a merchant (`is_admin`: that merchant's admin). The response
    carries its bearer token: the only time it is shown. Only ADMIN_API_TOKEN or a platform
    admin may omit `merchant_id` (with `is_admin`: another platform admin)."""
    merchant_id = operators.operator_merchant(
        session, principal, merchant_id=body.merchant_id, is_admin=body.is_admin
    )
    operator, token = operators.create_operator(
        session, name=body.name, is_admin=body.is_admin, merchant_id=merchant_id
    )
    return OperatorCreated(**OperatorRead.model_validate(operator).model_dump(), token=token)


@router.get("/operators")
def list_operators(
    session: SessionDep, principal: AdminDep, merchant_id: int | None = None
) -> list[OperatorRead]:
    rows = operators.list_operators(session, merchant_id=principal.scope(merchant_id))
    return [OperatorRead.model_validate(o) for o in rows]


@router.post("/operators/{operator_id}/revoke")
def revoke_operator(operator_id: int, session: SessionDep, _: AdminDep) -> OperatorRead:
    """Revoke the operator's token at once; their audit trail stays."""
    return OperatorRead.model_validate(operators.revoke_operator(session, operator_id))
