"""Customers as operators look them up."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.customer_schemas import CustomerRead
from api.deps import PrincipalDep, SessionDep
from services.customers import customer as customers

router = APIRouter(prefix="/api/v1", tags=["customers"])


@router.get("/customers")
def list_customers(
    session: SessionDep,
    principal: PrincipalDep,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200,
              description="Part of the name, username, phone number (with or without +) or "
              "business-scoped user id; case and accents ignored."),
    ] = None,
    merchant_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CustomerRead]:
    """Customers, the most recently active first, each with their conversations' ids and
    last activity."""
    found = customers.search_customers(
        session, q=q, merchant_id=principal.scope(merchant_id), limit=limit, offset=offset
    )
    return [CustomerRead.from_activity(c) for c in found]


@router.get("/customers/{customer_id}", responses={404: {}})
def customer_detail(
    customer_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep, _: PrincipalDep
) -> CustomerRead:
    """One customer with their conversations' ids and last activity."""
    return CustomerRead.from_activity(customers.customer_activity(session, customer_id))
