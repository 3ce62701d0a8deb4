"""The WhatsApp profile photo, from the API and the console to Meta's Resumable Upload API
(the Graph simulator checks the upload session, the OAuth header, the offset and the length
as Meta does) and onto the business profile by its handle."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.conftest import ACCESS_TOKEN, ADMIN_TOKEN
from tests.integration import onboarding_helpers
from tests.integration.console_helpers import csrf_token, login
from tests.integration.onboarding_helpers import META_APP_ID

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
meta_app = onboarding_helpers.meta_app


def _image(kind: str = "PNG", size: tuple[int, int] = (640, 640)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 20)).save(out, format=kind)
    return out.getvalue()


def _url(merchant: dict) -> str:
    return (
        f"/api/v1/merchants/{merchant['id']}/phone-numbers/"
        f"{merchant['phone_number_id']}/business-profile/photo"
    )


def _upload_requests(graph) -> list:
    return [r for r in graph.requests if "/upload" in r.path]


@pytest.mark.usefixtures("meta_app")
@pytest.mark.parametrize("kind,mime", [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_a_photo_goes_through_metas_resumable_upload_onto_the_profile(
    client, merchant, fakes, kind, mime
):
    graph, data = fakes["graph"], _image(kind)
    answer = client.post(_url(merchant), headers=ADMIN, files={"file": ("logo", data, mime)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["profile_picture_url"].startswith("https://pps.whatsapp.net/")
    start, upload = _upload_requests(graph)
    assert start.path.endswith(f"/{META_APP_ID}/uploads")
    assert start.query["file_length"] == [str(len(data))] and start.query["file_type"] == [mime]
    assert upload.headers["authorization"] == f"OAuth {ACCESS_TOKEN}"
    assert upload.headers["file_offset"] == "0" and upload.body == data
    handle = graph.business_profiles.posted[-1]["profile_picture_handle"]
    assert graph.business_profiles.photos[handle] == (mime, data)
    assert ACCESS_TOKEN not in answer.text


@pytest.mark.usefixtures("meta_app")
@pytest.mark.parametrize(
    "data,reason",
    [
        (b"GIF89a" + b"\0" * 100, "JPEG or PNG"),
        (b"", "empty"),
        ("small", "at least 192 x 192"),
        ("huge", "5 MB"),
    ],
)
def test_a_photo_whatsapp_would_refuse_is_a_422_before_meta_is_asked(
    client, merchant, fakes, data, reason
):
    if data == "small":
        data = _image(size=(100, 100))
    elif data == "huge":
        data = b"\x89PNG" + b"\0" * (5 * 1024 * 1024)
    answer = client.post(
        _url(merchant), headers=ADMIN, files={"file": ("x.png", data, "image/png")}
    )
    assert answer.status_code == 422 and reason in answer.text
    assert _upload_requests(fakes["graph"]) == []


def test_without_meta_app_id_the_photo_says_what_is_missing(client, merchant, fakes):
    answer = client.post(
        _url(merchant), headers=ADMIN, files={"file": ("x.png", _image(), "image/png")}
    )
    assert answer.status_code == 422 and "META_APP_ID" in answer.text


@pytest.mark.usefixtures("meta_app")
def test_meta_refusing_the_upload_is_a_clear_error(client, merchant, fakes):
    fakes["graph"].onboarding.app_id = "999"  # Meta knows no upload session for our app id
    answer = client.post(
        _url(merchant), headers=ADMIN, files={"file": ("x.png", _image(), "image/png")}
    )
    assert answer.status_code == 422 and "Unsupported post request" in answer.text


@pytest.mark.usefixtures("meta_app")
def test_a_merchant_admin_sets_the_photo_from_the_console(client, merchant, fakes):
    made = client.post(
        "/api/v1/operators", headers=ADMIN,
        json={"name": "Gina", "is_admin": True, "merchant_id": merchant["id"]},
    )  # fmt: skip
    login(client, made.json()["token"])
    csrf = csrf_token(client, "/console/settings")
    action = f"/console/settings/numbers/{merchant['phone_number_id']}/photo"
    done = client.post(
        action, data={"csrf_token": csrf},
        files={"photo": ("logo.jpg", _image("JPEG"), "image/jpeg")}, follow_redirects=True,
    )  # fmt: skip
    assert done.status_code == 200 and "Profile photo updated" in done.text
    assert fakes["graph"].business_profiles.posted[-1]["profile_picture_handle"]
    assert re.search(r'<img[^>]+src="https://pps\.whatsapp\.net/', done.text)
    bad = client.post(
        action, data={"csrf_token": csrf}, files={"photo": ("x.gif", b"GIF89a", "image/gif")},
        follow_redirects=True,
    )  # fmt: skip
    assert "JPEG or PNG" in bad.text
