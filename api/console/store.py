"""The merchant's Shopify store: connect it, watch its sync, sync again, disconnect.
Reading is open to operators; changing it needs an admin, as in the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.console.auth import ConsoleUserDep, FormUserDep
from api.console.templating import render
from api.deps import SessionDep
from services.commerce import store as stores
from services.commerce.queries import store_of
from services.errors import DomainError
from services.merchants.merchant import list_merchants

router = APIRouter(prefix="/console/store", include_in_schema=False)


def _back(merchant_id: int) -> Response:
    return RedirectResponse(f"/console/store?merchant_id={merchant_id}", status_code=303)


@router.get("")
def store_page(
    request: Request, db: SessionDep, user: ConsoleUserDep, merchant_id: int | None = None
) -> Response:
    merchants = list_merchants(db, merchant_id=user.principal.scope())
    chosen = next(
        (m for m in merchants if m.id == merchant_id), merchants[0] if merchants else None
    )
    store = store_of(db, chosen.id) if chosen else None
    products = stores.product_count(db, chosen.id) if store and chosen else 0
    context = {"user": user, "merchants": merchants, "merchant": chosen, "store": store,
               "products": products}  # fmt: skip
    return render(request, "store.html", context)


@router.post("/connect")
def connect(
    request: Request,
    db: SessionDep,
    user: FormUserDep,
    merchant_id: Annotated[int, Form()],
    shop_domain: Annotated[str, Form(max_length=255)],
    access_token: Annotated[str, Form(min_length=1, max_length=500)],
    storefront_access_token: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    connection = stores.Connection(
        shop_domain=shop_domain, access_token=access_token.strip(),
        storefront_access_token=storefront_access_token.strip() or None,
    )  # fmt: skip
    webhook_url = str(request.url_for("shopify_webhook"))
    return _act(db, user, merchant_id, lambda: stores.connect(
        db, merchant_id=merchant_id, connection=connection, webhook_url=webhook_url,
    ), "Connected: the catalog is syncing.")  # fmt: skip


@router.post("/sync")
def sync(db: SessionDep, user: FormUserDep, merchant_id: Annotated[int, Form()]) -> Response:
    return _act(db, user, merchant_id, lambda: stores.request_sync(
        db, stores.get_store(db, merchant_id)), "A full sync has started.")  # fmt: skip


@router.post("/disconnect")
def disconnect(db: SessionDep, user: FormUserDep, merchant_id: Annotated[int, Form()]) -> Response:
    return _act(db, user, merchant_id, lambda: stores.disconnect(db, merchant_id),
                "Disconnected: the catalog was removed.")  # fmt: skip


def _act(
    db: SessionDep, user: FormUserDep, merchant_id: int, action: Callable[[], object], done: str
) -> Response:
    try:
        user.principal.require_admin()
        action()
    except DomainError as exc:
        db.rollback()
        user.flash(exc.message, "error")
        return _back(merchant_id)
    user.flash(done, "ok")
    return _back(merchant_id)
