"""The media library: files the AI and operators send. Upload, preview, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from api.console.auth import ConsoleUserDep, FormUserDep, signed_in_gate
from api.console.templating import render
from api.deps import SessionDep
from api.files import file_response
from api.uploads import gated_post
from persistence.storage import StorageError
from services.errors import DomainError, NotFound
from services.media import library as media_library
from services.merchants.merchant import get_merchant, list_merchants
from settings import get_settings

router = APIRouter(prefix="/console/media", include_in_schema=False)


def _back(merchant_id: int | None) -> Response:
    query = f"?merchant_id={merchant_id}" if merchant_id else ""
    return RedirectResponse(f"/console/media{query}", status_code=303)


@router.get("")
def media_page(
    request: Request, db: SessionDep, user: ConsoleUserDep, merchant_id: int | None = None
) -> Response:
    merchants = list_merchants(db, merchant_id=user.principal.scope())
    chosen = next(
        (m for m in merchants if m.id == merchant_id), merchants[0] if merchants else None
    )
    assets = media_library.list_assets(db, chosen.id) if chosen else []
    context = {
        "user": user, "merchants": merchants, "merchant": chosen, "assets": assets,
        "kinds": list(media_library.KINDS),
    }  # fmt: skip
    return render(request, "media.html", context)


@gated_post(router, "", gate=signed_in_gate, limit=lambda: get_settings().media_max_bytes)
def upload(
    db: SessionDep,
    user: FormUserDep,
    merchant_id: Annotated[int, Form()],
    key: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=16)],
    file: Annotated[UploadFile, File()],
    caption: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        get_merchant(db, merchant_id)
        data = file.file.read(get_settings().media_max_bytes + 1)
        asset = media_library.add_asset(
            db, merchant_id=merchant_id, key=key.strip(), kind=kind, caption=caption,
            filename=file.filename or key, mime_type=file.content_type or "", data=data,
        )  # fmt: skip
    except (DomainError, StorageError) as exc:
        db.rollback()
        user.flash(getattr(exc, "message", None) or str(exc), "error")
        return _back(merchant_id)
    user.flash(f"Added {asset.key!r}: the AI can send it now.", "ok")
    return _back(merchant_id)


@router.post("/{asset_id}/delete")
def delete(asset_id: int, db: SessionDep, user: FormUserDep) -> Response:
    try:
        asset = media_library.get_asset(db, asset_id)
        merchant_id, key = asset.merchant_id, asset.key
        media_library.delete_asset(db, asset_id)
    except (DomainError, StorageError) as exc:
        db.rollback()
        user.flash(getattr(exc, "message", None) or str(exc), "error")
        return _back(None)
    user.flash(f"Deleted {key!r}.", "ok")
    return _back(merchant_id)


@router.get("/{asset_id}/file")
def asset_file(asset_id: int, db: SessionDep, user: ConsoleUserDep) -> Response:
    try:
        asset = media_library.get_asset(db, asset_id)
        data = media_library.read_asset(asset)
    except (NotFound, StorageError):
        return Response("no file", status_code=404, media_type="text/plain")
    return file_response(data, asset.mime_type, asset.filename)
