"""Media and message kinds on Twilio and Instagram (#15), end to end on the real stack.

Outbound: a library file goes to Twilio as `MediaUrl`, an expiring signed link to our copy
under PUBLIC_BASE_URL (fetched here as Twilio would; a tampered or expired link is 403);
products become image + caption messages; a PDF on Instagram becomes a link in text; lists
become numbered text on both. Inbound: Twilio's `MediaUrl0` is fetched with basic auth into
our storage, and only from Twilio's media hosts (and the configured API's)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select

from channels.simulators.instagram import message_event, signed, webhook_body
from persistence.db import session_scope
from persistence.models import MediaAsset
from persistence.storage import get_storage
from services.media.public_link import expiring_link
from services.merchants.channel import add_channel
from tests.conftest import (
    ADMIN_TOKEN,
    INSTAGRAM_APP_SECRET,
    TWILIO_SID,
    TWILIO_TOKEN,
    running_stack,
)
from tests.helpers import eventually, messages_in_db
from tests.integration.test_observability import _samples, _value
from tests.security.test_media_download_stays_on_meta_hosts import Collector

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PUBLIC = "http://testserver"  # the TestClient's origin: links under it are fetched here
LINK_SECRET = "test-media-link-secret"
SENDER, CUSTOMER = "+14155238886", "+15551234567"
IG_ACCOUNT, IG_TOKEN, IGSID = "17841400000000001", "IGAA-test-instagram-token", "6543210987654321"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
STORES = {"text": "Which store?", "options": ["Lisbon", "Porto", "Faro", "Braga", "Évora"]}


def jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture(scope="module")
def stack(servers, tmp_path_factory) -> Iterator:
    """The workers sign links under PUBLIC_BASE_URL with MEDIA_LINK_SECRET."""
    yield from running_stack(
        servers, tmp_path_factory, "channel-media",
        PUBLIC_BASE_URL=PUBLIC, MEDIA_LINK_SECRET=LINK_SECRET,
    )  # fmt: skip


@pytest.fixture
def links(monkeypatch) -> None:
    """This process (the API serving the links) knows the same secret."""
    from settings import get_settings

    monkeypatch.setenv("MEDIA_LINK_SECRET", LINK_SECRET)
    monkeypatch.setenv("PUBLIC_BASE_URL", PUBLIC)
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def twilio(stack, links, client, merchant, fakes) -> dict:
    body = {"type": "twilio_whatsapp", "account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN,
            "sender": SENDER}  # fmt: skip
    made = client.post(f"/api/v1/merchants/{merchant['id']}/channels", headers=ADMIN, json=body)
    assert made.status_code == 201, made.text
    return fakes["twilio"]


@pytest.fixture
def instagram(stack, links, merchant, fakes):
    with session_scope() as session:
        add_channel(
            session, merchant_id=merchant["id"], type="instagram", external_id=IG_ACCOUNT,
            secret=IG_TOKEN, display_name="@acme.shoes",
        )  # fmt: skip
    fakes["instagram"].tokens = {IG_ACCOUNT: IG_TOKEN}
    return fakes["instagram"]


def _upload(client, merchant, *, key: str, kind: str, mime: str, data: bytes, filename: str):
    made = client.post(
        "/api/v1/media", headers=ADMIN,
        data={"merchant_id": str(merchant["id"]), "key": key, "kind": kind, "caption": ""},
        files={"file": (filename, data, mime)},
    )  # fmt: skip
    assert made.status_code == 201, made.text


def _twilio_says(client, fake, text: str = "", **kwargs) -> None:
    form = fake.inbound_form(sender=SENDER, customer=CUSTOMER, body=text, **kwargs)
    assert fake.post(client, f"{PUBLIC}/webhooks/twilio", form).status_code == 200


def _instagram_says(client, text: str) -> None:
    event = message_event(account_id=IG_ACCOUNT, igsid=IGSID, text=text)
    content, headers = signed(webhook_body(IG_ACCOUNT, [event]), secret=INSTAGRAM_APP_SECRET)
    assert client.post("/webhooks/instagram", content=content, headers=headers).status_code == 200


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return f"{parts.path}?{urlencode(query)}"


# --- outbound ------------------------------------------------------------------------------


def test_a_library_image_goes_to_twilio_as_an_expiring_signed_link(client, merchant, twilio, fakes):
    image = jpeg()
    _upload(client, merchant, key="blue-shoe", kind="image", mime="image/jpeg", data=image,
            filename="blue shoe.jpg")  # fmt: skip
    fakes["gemini"].call_tool("respond_with_media", {"media_key": "blue-shoe", "caption": "Blue"})
    fakes["gemini"].reply("Here it is!")
    twilio.fetch_media = client.get  # Twilio downloads the MediaUrl, as from the internet
    _twilio_says(client, twilio, "show me the blue one")

    media, text = twilio.wait_for_sent(2, timeout=30)
    assert twilio.fetched == [(media["MediaUrl"], 200, image)]
    assert media["Body"] == "Blue" and text["Body"] == "Here it is!"
    url = media["MediaUrl"]
    assert url.startswith(f"{PUBLIC}/media/signed/") and "blue_shoe.jpg?" in url
    query = parse_qs(urlsplit(url).query)
    expires = int(query["expires"][0])
    assert time.time() + 3600 < expires < time.time() + 7 * 3600  # hours, not forever

    fetched = client.get(url)  # as Twilio fetches it: no credentials
    assert fetched.status_code == 200 and fetched.content == image
    assert fetched.headers["content-type"] == "image/jpeg"

    sig = query["sig"][0]
    forged = "0" * len(sig)
    assert client.get(_with(url, sig=forged)).status_code == 403
    assert client.get(_with(url, expires=str(expires + 60))).status_code == 403  # longer life
    other = urlsplit(url).path.replace("blue_shoe.jpg", "other.jpg")
    assert client.get(f"{other}?{urlsplit(url).query}").status_code == 403  # another path
    assert client.get(urlsplit(url).path).status_code == 403  # unsigned


def test_an_expired_link_is_refused(client, merchant, twilio):
    _upload(client, merchant, key="pdf", kind="document", mime="application/pdf", data=PDF,
            filename="sizes.pdf")  # fmt: skip
    with session_scope() as session:
        asset = session.scalars(select(MediaAsset)).one()
        live = expiring_link(asset)
        dead = expiring_link(asset, ttl=timedelta(seconds=-1))
    assert live is not None and dead is not None
    assert client.get(live).content == PDF
    refused = client.get(dead)
    assert refused.status_code == 403 and "expired" in refused.json()["detail"]


def test_products_on_twilio_go_as_image_and_caption_messages(client, merchant, twilio, fakes):
    from channels.simulators.shopify_catalog import SimProduct, SimVariant

    shop = fakes["shopify"]
    shop.add(
        SimProduct(
            id=1001, title="Red Running Shoes", status="ACTIVE", product_type="Running Shoes",
            tags=["running"], images=["https://cdn.shopify.example/files/1001.jpg"],
            variants=[SimVariant(id=100101, price="89.00", options={"Size": "42"}, quantity=3,
                                 position=1)],
        )
    )  # fmt: skip
    url = f"/api/v1/merchants/{merchant['id']}/shopify"
    body = {"shop_domain": shop.shop_domain, "access_token": shop.access_token}
    assert client.post(url, headers=ADMIN, json=body).status_code == 201
    eventually(lambda: client.get(url, headers=ADMIN).json()["sync_status"] == "done", timeout=60)

    fakes["gemini"].call_tool("send_products", {"product_ids": ["1001"], "text": "Here:"})
    fakes["gemini"].reply("Size 42 is in stock.")
    _twilio_says(client, twilio, "red running shoes?")
    photo, text = twilio.wait_for_sent(2, timeout=30)
    assert photo["MediaUrl"] == "https://cdn.shopify.example/files/1001.jpg"
    assert photo["Body"].splitlines()[:3] == ["Here:", "*Red Running Shoes*", "€89.00"]
    assert "ContentSid" not in photo and text["Body"] == "Size 42 is in stock."
    output = fakes["gemini"].tool_outputs(fakes["gemini"].wait_for_requests(2, timeout=20)[1])
    assert "photos" in output[0]


def test_a_pdf_on_instagram_goes_as_a_link_in_text(client, merchant, instagram, fakes):
    _upload(client, merchant, key="size-guide", kind="document", mime="application/pdf",
            data=PDF, filename="size guide.pdf")  # fmt: skip
    fakes["gemini"].call_tool(
        "respond_with_media", {"media_key": "size-guide", "caption": "Our size guide"}
    )
    fakes["gemini"].reply("Anything else?")
    _instagram_says(client, "do you have a size guide?")
    document, text = instagram.wait_for_sent(2, timeout=30)
    lines = document["message"]["text"].splitlines()
    assert lines[0] == "Our size guide" and lines[1].startswith("📎 size_guide.pdf: ")
    link = lines[1].split(": ", 1)[1]
    assert link.startswith(f"{PUBLIC}/media/signed/")
    expires = int(parse_qs(urlsplit(link).query)["expires"][0])
    assert expires > time.time() + 6 * 24 * 3600  # the customer may open it days later
    assert client.get(link).content == PDF
    assert text["message"] == {"text": "Anything else?"}
    [row] = eventually(lambda: [m for m in messages_in_db(type="document") if m.wamid])
    assert row.status != "failed"


def test_a_list_becomes_numbered_text_on_twilio(client, merchant, twilio, fakes):
    fakes["gemini"].call_tool("reply_with_options", STORES).empty()
    _twilio_says(client, twilio, "where can I try them?")
    [sent] = twilio.wait_for_sent(1, timeout=30)
    assert sent["Body"] == "Which store?\n\n1. Lisbon\n2. Porto\n3. Faro\n4. Braga\n5. Évora"


def test_a_list_becomes_numbered_text_on_instagram(client, merchant, instagram, fakes):
    fakes["gemini"].call_tool("reply_with_options", STORES).empty()
    _instagram_says(client, "where can I try them?")
    [sent] = instagram.wait_for_sent(1, timeout=30)
    assert sent["message"] == {
        "text": "Which store?\n\n1. Lisbon\n2. Porto\n3. Faro\n4. Braga\n5. Évora"
    }
    second = fakes["gemini"].wait_for_requests(2, timeout=20)[1]
    assert "numbered text" in fakes["gemini"].tool_outputs(second)[0]


# --- inbound -------------------------------------------------------------------------------


def test_an_inbound_twilio_image_is_fetched_with_basic_auth_and_stored(
    client, merchant, twilio, fakes
):
    image = jpeg()
    url = twilio.add_media(image, "image/jpeg")
    fakes["gemini"].reply("Nice shoes!")
    _twilio_says(client, twilio, "like these?", media=[(url, "image/jpeg")])
    message = eventually(
        lambda: (m := messages_in_db(direction="in")[0]).media_status == "stored" and m,
        timeout=30,
    )
    assert message.type == "image" and message.media_key.endswith(".jpg")
    assert get_storage().get(message.media_key) == image
    twilio.wait_for_sent(1, timeout=30)


def test_an_inbound_media_url_off_twilios_hosts_is_refused_and_counted(
    client, merchant, twilio, fakes
):
    from services.media.flows import fetch_inbound_media

    with Collector() as foreign:
        before = _samples(client)
        fakes["gemini"].reply("Let me see.")
        _twilio_says(client, twilio, "look", media=[(f"{foreign.url}/pic.jpg", "image/jpeg")])
        [message] = messages_in_db(direction="in")
        assert fetch_inbound_media(message.id) == "failed"  # the worker's job, run here
        assert foreign.seen == []  # not one request: our Twilio credentials stay home
    [message] = messages_in_db(direction="in")
    assert message.media_status == "failed"
    assert "not an allowed media host" in message.media_error
    refused = {"outcome": "refused_host"}
    assert _value(_samples(client), "switchboard_media_fetches_total", **refused) >= (
        _value(before, "switchboard_media_fetches_total", **refused) + 1
    )
