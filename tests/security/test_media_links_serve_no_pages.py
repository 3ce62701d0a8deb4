"""Finding 2 of issue #22: an HTML (or SVG) file in the media library, opened through its
signed link by a signed-in operator, ran script on our origin and took over a conversation.

The attack, step by step: upload a page as a "document" (refused, whatever type is
declared); a page already stored is served as a sandboxed download, never rendered; and
the link's signature is not the webhook's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import stat
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from persistence.db import session_scope
from persistence.models import MediaAsset
from persistence.storage import get_storage
from run_server import media_link_environment
from services.media.send import signed_link
from settings import Settings
from tests.conftest import ADMIN_TOKEN, APP_SECRET

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PAGE = b"<!DOCTYPE html><html><body><script>fetch('/console/inbox')</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
LINK_SECRET = "test-media-link-secret"


def _upload(client, merchant: dict, *, kind: str, mime: str, data: bytes, filename: str):
    return client.post(
        "/api/v1/media",
        headers=ADMIN,
        data={"merchant_id": str(merchant["id"]), "key": "file", "kind": kind},
        files={"file": (filename, data, mime)},
    )


@pytest.mark.parametrize(
    ("kind", "mime", "data", "filename"),
    [
        ("document", "text/html", PAGE, "offer.html"),
        ("document", "application/octet-stream", PAGE, "offer.html"),  # curl's default type
        ("document", "application/pdf", PAGE, "offer.pdf"),  # a page declared as a PDF
        ("document", "text/plain", PAGE, "offer.txt"),  # ... or as plain text
        ("document", "image/svg+xml", SVG, "logo.svg"),
        ("document", "application/xhtml+xml", PAGE, "offer.xhtml"),
        ("image", "image/svg+xml", SVG, "logo.svg"),
    ],
)
def test_a_page_cannot_be_uploaded_to_the_library(client, merchant, kind, mime, data, filename):
    refused = _upload(client, merchant, kind=kind, mime=mime, data=data, filename=filename)
    assert refused.status_code == 422, refused.text
    listed = client.get("/api/v1/media", headers=ADMIN, params={"merchant_id": merchant["id"]})
    assert listed.json() == []


@pytest.mark.parametrize(
    ("mime", "data", "filename"),
    [
        ("application/pdf", b"%PDF-1.7 price list", "prices.pdf"),
        ("application/octet-stream", b"%PDF-1.7 price list", "prices.pdf"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         b"PK\x03\x04 word", "terms.docx"),
        ("text/csv", b"size,price\n42,89.90\n", "sizes.csv"),
        ("text/plain", b"Opening hours: 9 to 18", "hours.txt"),
    ],
)  # fmt: skip
def test_real_documents_are_still_accepted(client, merchant, mime, data, filename):
    created = _upload(client, merchant, kind="document", mime=mime, data=data, filename=filename)
    assert created.status_code == 201, created.text


@pytest.fixture
def links(configure: Callable[..., None]) -> None:
    configure(MEDIA_LINK_BASE_URL="https://switchboard.example.com", MEDIA_LINK_SECRET=LINK_SECRET)


def _stored(merchant: dict, *, filename: str, mime_type: str, data: bytes, kind: str) -> int:
    """A file stored before the library checked documents' types (or by any other path)."""
    storage_key = f"library/{merchant['id']}/legacy/{filename}"
    get_storage().put(storage_key, data, mime_type)
    with session_scope() as session:
        asset = MediaAsset(
            merchant_id=merchant["id"], key=filename.replace(".", "-"), kind=kind,
            filename=filename, mime_type=mime_type, size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), storage_key=storage_key,
        )  # fmt: skip
        session.add(asset)
        session.flush()
        return asset.id


def _link_path(asset_id: int) -> str:
    with session_scope() as session:
        asset = session.get(MediaAsset, asset_id)
        assert asset is not None
        link = signed_link(asset)
    assert link is not None
    url = urlsplit(link)
    return f"{url.path}?{url.query}"


@pytest.mark.parametrize(
    ("filename", "mime_type", "data"),
    [("offer.html", "text/html", PAGE), ("logo.svg", "image/svg+xml", SVG),
     ("offer.xhtml", "application/xhtml+xml", PAGE)],
)  # fmt: skip
def test_a_stored_page_is_served_as_a_sandboxed_download(
    client, merchant, links, filename, mime_type, data
):
    asset_id = _stored(merchant, filename=filename, mime_type=mime_type, data=data, kind="document")
    served = client.get(_link_path(asset_id))
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]


def test_a_pdf_link_keeps_its_type_but_is_a_sandboxed_download(client, merchant, links):
    asset_id = _stored(merchant, filename="prices.pdf", mime_type="application/pdf",
                       data=b"%PDF-1.7", kind="document")  # fmt: skip
    served = client.get(_link_path(asset_id))
    assert served.headers["content-type"] == "application/pdf"  # WhatsApp fetches it by link
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]


def test_a_picture_is_shown_inline_but_sandboxed(client, merchant, links):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    asset_id = _stored(merchant, filename="shoe.png", mime_type="image/png", data=png,
                       kind="image")  # fmt: skip
    served = client.get(_link_path(asset_id))
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-disposition"].startswith("inline;")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]


def test_the_webhook_secret_does_not_sign_links(client, merchant, configure):
    """Whoever knows WHATSAPP_APP_SECRET (every Meta app admin) cannot forge a link."""
    configure(MEDIA_LINK_BASE_URL="https://switchboard.example.com")
    asset_id = _stored(merchant, filename="prices.pdf", mime_type="application/pdf",
                       data=b"%PDF-1.7", kind="document")  # fmt: skip
    with session_scope() as session:
        asset = session.get(MediaAsset, asset_id)
        assert asset is not None
        assert signed_link(asset) is None  # no MEDIA_LINK_SECRET: no links at all
        message = f"{asset.id}/{asset.filename}/{asset.sha256}".encode()
    forged = hmac.new(APP_SECRET.encode(), message, hashlib.sha256).hexdigest()
    assert client.get(f"/media/{asset_id}/prices.pdf?sig={forged}").status_code == 404
    configure(MEDIA_LINK_SECRET=LINK_SECRET)
    assert client.get(f"/media/{asset_id}/prices.pdf?sig={forged}").status_code == 404


def test_the_embedded_setup_keeps_a_link_secret_of_its_own(tmp_path):
    embedded = Settings(_env_file=None, data_dir=tmp_path, database_url=None)  # type: ignore[call-arg]
    first = media_link_environment(embedded)["MEDIA_LINK_SECRET"]
    assert first and first != APP_SECRET
    assert media_link_environment(embedded)["MEDIA_LINK_SECRET"] == first  # kept across starts
    assert stat.S_IMODE((tmp_path / "media-link-secret").stat().st_mode) == 0o600
    servers = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, database_url="postgresql://db/x", redis_url="redis://r"
    )
    assert media_link_environment(servers) == {}  # there, MEDIA_LINK_SECRET is set or no links
