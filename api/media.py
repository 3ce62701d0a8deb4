"""The media library: files the AI and operators send. Plus the signed public link to a file,
which WhatsApp fetches when a file could not be uploaded to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import PrincipalDep, SessionDep, bearer_gate
from api.files import INERT_TYPES, file_response
from api.schemas import MediaAssetRead
from api.uploads import gated_post
from persistence.models import MediaAsset
from persistence.storage import StorageError
from services.errors import NotFound
from services.media import library as media_library
from services.media.public_link import check_expiring_link
from services.media.send import check_link
from services.merchants import merchant as merchants
from settings import get_settings

router = APIRouter(tags=["media"])


@gated_post(  # the token is checked before the upload is read; then it may be MEDIA_MAX_BYTES
    router, "/api/v1/media", gate=bearer_gate, limit=lambda: get_settings().media_max_bytes,
    status_code=status.HTTP_201_CREATED, responses={401: {}, 409: {}, 413: {}},
)  # fmt: skip
def upload_media(
    session: SessionDep,
    _: PrincipalDep,
    merchant_id: Annotated[int, Form()],
    key: Annotated[str, Form(description="Unique per merchant: a-z, 0-9, '-', '_'.")],
    kind: Annotated[str, Form(description="image, video, document or audio")],
    file: Annotated[UploadFile, File()],
    caption: Annotated[str, Form(max_length=1024)] = "",
) -> MediaAssetRead:
    """Add a file to the merchant's library. WhatsApp's limits apply: image jpeg/png up to
    5 MB, video mp4/3gpp and audio aac/mp4/mpeg/amr/ogg up to 16 MB, documents up to 100 MB."""
    merchants.get_merchant(session, merchant_id)
    data = file.file.read(get_settings().media_max_bytes + 1)  # enough to tell "too large"
    asset = media_library.add_asset(
        session, merchant_id=merchant_id, key=key, kind=kind, caption=caption,
        filename=file.filename or key, mime_type=file.content_type or "", data=data,
    )  # fmt: skip
    return MediaAssetRead.model_validate(asset)


@router.get("/api/v1/media")
def list_media(
    session: SessionDep, _: PrincipalDep, merchant_id: Annotated[int, Query()]
) -> list[MediaAssetRead]:
    assets = media_library.list_assets(session, merchant_id)
    return [MediaAssetRead.model_validate(a) for a in assets]


@router.delete(
    "/api/v1/media/{asset_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}}
)
def delete_media(asset_id: int, session: SessionDep, _: PrincipalDep) -> None:
    """Remove the file from the library and from storage; the model stops seeing it."""
    media_library.delete_asset(session, asset_id)


@router.get("/media/signed/{asset_id}/{filename}", include_in_schema=False)
def expiring_media_link(
    asset_id: int,
    filename: str,
    session: SessionDep,
    expires: Annotated[int, Query()] = 0,
    sig: Annotated[str, Query(max_length=128)] = "",
) -> Response:
    """Public, HMAC-signed and expiring (services.media.public_link): what Twilio fetches
    as MediaUrl. 403 for a link we did not sign or one past its expiry."""
    check_expiring_link(asset_id, filename, expires, sig)
    return _library_file(session, asset_id, lambda asset: filename == asset.filename)


@router.get("/media/{asset_id}/{filename}", include_in_schema=False)
def media_link(
    asset_id: int, filename: str, session: SessionDep, sig: Annotated[str, Query()] = ""
) -> Response:
    """Public, HMAC-signed: only links we sent open a file. Served from our own origin, so
    never as a page: pictures, sound and video inline, anything else a sandboxed download."""
    return _library_file(session, asset_id, lambda asset: check_link(asset, filename, sig))


def _library_file(session: Session, asset_id: int, valid: Callable[[MediaAsset], bool]) -> Response:
    try:
        asset = media_library.get_asset(session, asset_id)
        if not valid(asset):
            raise NotFound("no such file")
        data = media_library.read_asset(asset)
    except (NotFound, StorageError):
        return Response(status_code=status.HTTP_404_NOT_FOUND)
    return file_response(
        data, asset.mime_type, asset.filename,
        inline_types=INERT_TYPES, typed=media_library.DOCUMENT_TYPES,
    )  # fmt: skip
