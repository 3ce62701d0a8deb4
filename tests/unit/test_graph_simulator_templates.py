"""The fake Graph API's message templates, driven through our WhatsApp client: the same
wire both ways, so a drift in either shows up here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from channels.errors import AuthError, InvalidRequest
from channels.simulators.graph import GraphSimulator
from channels.whatsapp import TEMPLATE_EXISTS_SUBCODE, TemplateExists, WhatsAppClient

PHONE_ID = "106540352242922"
TOKEN = "EAAG-fake"
WABA = "102290129340398"
BODY = "Hi {{1}}, your order {{2}} has shipped. Thank you!"
COMPONENTS = [{"type": "BODY", "text": BODY, "example": {"body_text": [["Ana", "A-1"]]}}]


@pytest.fixture(scope="module")
def server() -> Iterator[GraphSimulator]:
    with GraphSimulator(tokens={PHONE_ID: TOKEN}) as started:
        assert isinstance(started, GraphSimulator)
        yield started


@pytest.fixture
def fake(server: GraphSimulator) -> GraphSimulator:
    server.reset()
    return server


@pytest.fixture
def client(fake: GraphSimulator) -> Iterator[WhatsAppClient]:
    with WhatsAppClient(
        api_root=fake.api_root,
        access_token=TOKEN,
        phone_number_id=PHONE_ID,
        backoff_base=0.001,
        timeout=2.0,
    ) as made:
        yield made


def create(client: WhatsAppClient, **overrides: Any) -> Any:
    options: dict[str, Any] = {
        "name": "order_shipped",
        "language": "en_US",
        "category": "UTILITY",
        "components": COMPONENTS,
        **overrides,
    }
    return client.create_template(WABA, **options)


def send_template(client: WhatsAppClient, template: dict[str, Any]) -> str:
    return client.send({"to": "15551234567", "type": "template", "template": template})


def body_params(*texts: str) -> list[dict[str, Any]]:
    return [{"type": "body", "parameters": [{"type": "text", "text": t} for t in texts]}]


# --- message_templates ----------------------------------------------------------------


def test_create_answers_id_status_and_category(fake, client) -> None:
    created = create(client)
    assert (created.name, created.language, created.status, created.category) == (
        "order_shipped",
        "en_US",
        "PENDING",
        "UTILITY",
    )
    assert created.id.isdigit()
    assert fake.message_templates.get("order_shipped", "en_US").id == created.id


def test_the_raw_create_answer_has_metas_shape(fake) -> None:
    response = httpx.post(
        f"{fake.api_root}/{WABA}/message_templates",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={
            "name": "a_b",
            "language": "es",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Hola."}],
        },
    )
    assert response.status_code == 200
    assert set(response.json()) == {"id", "status", "category"}


def test_the_same_name_and_language_again_is_metas_already_exists_error(fake, client) -> None:
    create(client)
    with pytest.raises(TemplateExists) as caught:
        create(client)
    error = caught.value
    assert (error.code, error.subcode, error.http_status) == (100, TEMPLATE_EXISTS_SUBCODE, 400)
    assert error.title == "Content in This Language Already Exists"
    assert isinstance(error, InvalidRequest)
    assert create(client, language="es").language == "es"  # another language is fine


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"name": "Order Shipped"}, "lowercase"),
        ({"category": "SPAM"}, "category"),
        ({"components": [{"type": "BODY", "text": "{{1}} shipped."}]}, "start or end"),
        ({"components": [{"type": "BODY", "text": "Order {{1}}"}]}, "start or end"),
        ({"components": [{"type": "BODY", "text": "Hi {{1}} {{2}} ok."}]}, "next to each other"),
        ({"components": [{"type": "BODY", "text": "Hi {{2}} ok."}]}, "sequential"),
        ({"components": [{"type": "BODY", "text": "Hi {{1}} ok."}]}, "example.body_text"),
        ({"components": [{"type": "BODY", "text": "x" * 1025}]}, "1024"),
        ({"components": []}, "BODY"),
    ],
)
def test_create_refuses_what_meta_refuses(client, overrides: dict, expected: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        create(client, **overrides)
    error = caught.value
    assert error.code == 100
    assert expected in f"{error.details} {error.title}"


def test_an_unknown_token_cannot_manage_templates(fake) -> None:
    bad = WhatsAppClient(api_root=fake.api_root, access_token="nope", phone_number_id=PHONE_ID)
    with pytest.raises(AuthError):
        bad.list_templates(WABA)


def test_list_answers_data_and_paging_with_the_requested_fields(fake) -> None:
    for name in ("one_a", "two_b", "three_c"):
        fake.message_templates.add(WABA, name, "en", "Hello there.")
    response = httpx.get(
        f"{fake.api_root}/{WABA}/message_templates",
        params={"fields": "name,status", "limit": "2"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    page = response.json()
    assert [set(t) for t in page["data"]] == [{"id", "name", "status"}] * 2
    assert set(page["paging"]["cursors"]) == {"before", "after"}
    assert "next" in page["paging"]


def test_the_client_reads_every_page(fake, client) -> None:
    for index in range(150):
        fake.message_templates.add(WABA, f"template_{index}", "en", "Hello there.")
    fake.message_templates.add("another_waba", "template_x", "en", "Hello there.")
    listed = client.list_templates(WABA)
    assert len(listed) == 150
    assert {t.status for t in listed} == {"APPROVED"}


def test_the_name_filter_is_not_exact(fake, client) -> None:
    fake.message_templates.add(WABA, "order_shipped", "en", "Hello there.")
    fake.message_templates.add(WABA, "order_shipped_v2", "en", "Hello there.")
    names = {t.name for t in client.list_templates(WABA, name="order_shipped")}
    assert names == {"order_shipped", "order_shipped_v2"}


# --- sending templates ----------------------------------------------------------------


def test_a_template_send_needs_a_name_and_a_language_code(client) -> None:
    with pytest.raises(InvalidRequest) as caught:
        send_template(client, {"name": "order_shipped", "language": {}})
    assert caught.value.code == 100
    assert "language.code" in (caught.value.details or "")


@pytest.mark.parametrize("text", ["two\nlines", "a\ttab", "five     spaces", "", "   "])
def test_a_parameter_breaking_the_text_rules_is_132018(fake, client, text: str) -> None:
    template = {"name": "x", "language": {"code": "en"}, "components": body_params("ok", text)}
    with pytest.raises(InvalidRequest) as caught:
        send_template(client, template)
    assert caught.value.code == 132018
    assert "new-line/tab" in (caught.value.details or "")
    assert fake.sent == []


def test_an_unknown_template_is_accepted_unless_strict(fake, client) -> None:
    template = {"name": "made_up", "language": {"code": "en"}, "components": body_params("a")}
    assert send_template(client, template).startswith("wamid.")
    fake.message_templates.strict = True
    with pytest.raises(InvalidRequest) as caught:
        send_template(client, template)
    assert caught.value.code == 132001


def test_a_known_template_must_be_approved_in_that_language(fake, client) -> None:
    create(client)  # PENDING
    template = {
        "name": "order_shipped",
        "language": {"code": "en_US"},
        "components": body_params("Ana", "A-1"),
    }
    with pytest.raises(InvalidRequest) as caught:
        send_template(client, template)
    assert caught.value.code == 132001
    fake.message_templates.set_status("order_shipped", "en_US", "APPROVED")
    assert send_template(client, template).startswith("wamid.")
    with pytest.raises(InvalidRequest) as caught:
        send_template(client, {**template, "language": {"code": "fr"}})
    assert caught.value.code == 132001


def test_a_known_template_needs_its_number_of_parameters(fake, client) -> None:
    fake.message_templates.add(WABA, "order_shipped", "en", BODY)
    template = {"name": "order_shipped", "language": {"code": "en"}, "components": body_params("A")}
    with pytest.raises(InvalidRequest) as caught:
        send_template(client, template)
    assert caught.value.code == 132000


def test_a_filled_body_over_1024_characters_is_132005(fake, client) -> None:
    fake.message_templates.add(WABA, "order_shipped", "en", BODY)
    long = {
        "name": "order_shipped",
        "language": {"code": "en"},
        "components": body_params("A" * 1000, "B" * 100),
    }
    with pytest.raises(InvalidRequest) as caught:
        send_template(client, long)
    assert caught.value.code == 132005


def test_reset_forgets_templates_and_strictness(fake) -> None:
    fake.message_templates.add(WABA, "order_shipped", "en", BODY)
    fake.message_templates.strict = True
    fake.reset()
    assert fake.message_templates.get("order_shipped", "en") is None
    assert fake.message_templates.strict is False
