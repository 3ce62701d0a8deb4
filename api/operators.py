"""Operator accounts: admins create them (the token is shown once) and revoke them."""

from fastapi import APIRouter, status

from api.deps import AdminDep, SessionDep
from api.schemas import OperatorCreate, OperatorCreated, OperatorRead
from services.merchants import operator as operators

router = APIRouter(prefix="/api/v1", tags=["administration"])


@router.post("/operators", status_code=status.HTTP_201_CREATED)
def create_operator(body: OperatorCreate, session: SessionDep, _: AdminDep) -> OperatorCreated:
    """Create an operator. The response carries its bearer token: the only time it is shown."""
    operator, token = operators.create_operator(session, name=body.name, is_admin=body.is_admin)
    return OperatorCreated(**OperatorRead.model_validate(operator).model_dump(), token=token)


@router.get("/operators")
def list_operators(session: SessionDep, _: AdminDep) -> list[OperatorRead]:
    return [OperatorRead.model_validate(o) for o in operators.list_operators(session)]


@router.post("/operators/{operator_id}/revoke")
def revoke_operator(operator_id: int, session: SessionDep, _: AdminDep) -> OperatorRead:
    """Revoke the operator's token at once; their audit trail stays."""
    return OperatorRead.model_validate(operators.revoke_operator(session, operator_id))
