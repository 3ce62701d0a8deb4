"""Offers (options for the customer): which shape `options` picks, the Cloud API payloads,
the numbered-text fallback when WhatsApp's limits are exceeded, and answers read back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from channels.base import ListRow, ListSection, OutboundInteractive, OutboundText, Recipient
from channels.errors import InvalidRequest
from channels.simulators.graph import GraphSimulator
from channels.webhook import Choice, choice_of
from channels.whatsapp import WhatsAppClient
from channels.whatsapp_messages import message_object, refusal
from persistence.models import Message
from services.interactive.offer import (
    Offer,
    numbered_answer,
    offer_from_options,
    offer_with_list,
)
from services.interactive.service import fit_offer, offer_of

DATA = Path(__file__).parents[1] / "data"
PHONE_ID = "106540352242922"
TOKEN = "EAAG-fake"


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphSimulator]:
    with GraphSimulator(tokens={PHONE_ID: TOKEN}) as started:
        assert isinstance(started, GraphSimulator)
        yield started


@pytest.fixture
def client(graph: GraphSimulator) -> Iterator[WhatsAppClient]:
    graph.reset()
    with WhatsAppClient(
        api_root=graph.api_root, access_token=TOKEN, phone_number_id=PHONE_ID, backoff_base=0.001
    ) as made:
        yield made


def _row(offer: Offer) -> Message:
    return Message(id=1, type="interactive", text=offer.body, raw={"offer": offer.to_json()})


# --- the shape `options` picks ------------------------------------------------------------


def test_up_to_three_short_options_are_reply_buttons():
    offer = offer_from_options("Which size?", ["Size 41", "Size 42"])
    assert offer.kind == "buttons"
    assert message_object(_interactive(offer))["interactive"]["action"] == {
        "buttons": [
            {"type": "reply", "reply": {"id": "1", "title": "Size 41"}},
            {"type": "reply", "reply": {"id": "2", "title": "Size 42"}},
        ]
    }


def test_four_options_or_a_long_title_become_a_list():
    assert offer_from_options("Pick", ["a", "b", "c", "d"]).kind == "list"
    assert offer_from_options("Pick", ["Standard delivery (3-5 days)", "b"]).kind == "list"


def _interactive(offer: Offer) -> OutboundInteractive:
    from services.interactive.offer import interactive

    return interactive(offer)


# --- the Cloud API payloads -------------------------------------------------------------


def test_a_list_with_titled_sections_and_a_location_request():
    offer = offer_with_list(
        "Where?", "Stores",
        [("North", [("n1", "Uptown", "9-18")]), ("South", [("", "Harbour", "")])],
    )  # fmt: skip
    action = message_object(_interactive(offer))["interactive"]["action"]
    assert action == {
        "button": "Stores",
        "sections": [
            {"title": "North", "rows": [{"id": "n1", "title": "Uptown", "description": "9-18"}]},
            {"title": "South", "rows": [{"id": "2", "title": "Harbour"}]},
        ],
    }
    location = message_object(OutboundInteractive("Share your address", location_request=True))
    assert location["interactive"] == {
        "type": "location_request_message",
        "body": {"text": "Share your address"},
        "action": {"name": "send_location"},
    }


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (OutboundInteractive("x", list_button="Go", sections=(
            ListSection(None, (ListRow("a", "A"),)), ListSection(None, (ListRow("b", "B"),)))),
         "section title: required"),
        (OutboundInteractive("x", list_button="Go", sections=(
            ListSection("A section title that is far too long", (ListRow("a", "A"),)),)),
         "section title"),
        (OutboundInteractive("x", url="http://shop.example/c", url_label="Pay"), "https"),
        (OutboundInteractive("x" * 1025, location_request=True), "body"),
    ],
)  # fmt: skip
def test_what_whatsapp_would_refuse_has_a_reason(message, reason):
    assert reason in (refusal(message) or "")


# --- the numbered-text fallback ----------------------------------------------------------


def test_over_the_limits_the_offer_goes_as_numbered_text_and_says_so(client):
    offer = offer_from_options("Which store?", [f"Store number {n}" for n in range(1, 13)])
    row = _row(offer)
    outbound = fit_offer(row, client)
    assert outbound == OutboundText("Which store?\n\n" + "\n".join(
        f"{n}. Store number {n}" for n in range(1, 13)))  # fmt: skip
    assert row.type == "text" and row.text == outbound.text
    sent = offer_of(row)
    assert sent is not None and sent.sent_as == "numbered"
    assert "at most 10 list rows" in (sent.fallback_reason or "")


def test_a_title_over_24_characters_falls_back_too(client):
    offer = offer_from_options("Pick", ["a", "b", "c", "A title of twenty-five ch"])
    row = _row(offer)
    assert isinstance(fit_offer(row, client), OutboundText)
    assert row.text == "Pick\n\n1. a\n2. b\n3. c\n4. A title of twenty-five ch"


def test_a_fitting_offer_stays_interactive_and_records_how_it_went(client):
    row = _row(offer_from_options("Which size?", ["41", "42", "43"]))
    assert isinstance(fit_offer(row, client), OutboundInteractive)
    sent = offer_of(row)
    assert row.type == "interactive" and sent is not None and sent.sent_as == "buttons"


def test_a_channel_without_interactive_messages_gets_numbered_text(client):
    class TextOnly:
        capabilities = type("Caps", (), {"interactive": False})()

        def refusal(self, message):  # never asked: the capability decides
            raise AssertionError

    row = _row(offer_from_options("Which size?", ["41", "42"]))
    assert fit_offer(row, TextOnly()) == OutboundText("Which size?\n\n1. 41\n2. 42")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2", "42"), (" 2. ", "42"), ("#1", "41"), ("3", None), ("2 please", None)],
)
def test_a_number_answers_a_numbered_offer(text, expected):
    sent = Offer.from_json({**offer_from_options("Size?", ["41", "42"]).to_json(),
                            "sent_as": "numbered"})  # fmt: skip
    option = numbered_answer(sent, text)
    assert (option.title if option else None) == expected
    buttons = Offer.from_json({**sent.to_json(), "sent_as": "buttons"})
    assert numbered_answer(buttons, "2") is None  # they tap buttons; "2" is just text


# --- the simulator refuses what Graph refuses ---------------------------------------------


@pytest.mark.parametrize(
    ("interactive", "details"),
    [
        ({"type": "button", "body": {"text": "Size?"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": str(n), "title": str(n)}} for n in range(4)]}},
         "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3"),
        ({"type": "button", "body": {"text": "Size?"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "a", "title": "x" * 21}}]}},
         "Button title length invalid. Min length: 1, Max length: 20"),
        ({"type": "list", "body": {"text": "Pick"}, "action": {"button": "Go", "sections": [
            {"rows": [{"id": str(n), "title": "r"} for n in range(11)]}]}},
         "Total row count exceed max allowed count: 10"),
    ],
)  # fmt: skip
def test_graph_answers_131009_for_what_it_refuses(client, graph, interactive, details):
    payload = {"to": "15551234567", "type": "interactive", "interactive": interactive}
    with pytest.raises(InvalidRequest) as refused:
        client.send(payload)
    assert refused.value.code == 131009 and refused.value.details == details
    assert "(#131009) Parameter value is not valid" in refused.value.message
    assert graph.sent == []


def test_graph_accepts_what_the_builder_makes(client, graph):
    offer = offer_from_options("Which size?", ["41", "42", "43"])
    client.send_message(Recipient(wa_id="15551234567"), _interactive(offer))
    [sent] = graph.wait_for_sent(1)
    assert sent["interactive"]["type"] == "button"


# --- answers -----------------------------------------------------------------------------


def _message_of(name: str) -> dict:
    payload = json.loads((DATA / name).read_text())
    return payload["entry"][0]["changes"][0]["value"]["messages"][0]


def test_a_button_or_list_reply_is_read_as_the_option_chosen():
    assert choice_of(_message_of("message_interactive_button_reply.json")) == Choice(
        "talk_to_human", "Talk to a person"
    )
    assert choice_of(_message_of("message_interactive_list_reply.json")) == Choice(
        "shipping_express", "Express shipping"
    )
    assert choice_of(_message_of("message_button.json")) == Choice(
        "CONFIRM_ORDER_8812", "Yes, confirm"
    )
    assert choice_of(_message_of("message_text.json")) is None
