"""Our outbound messages in the Cloud API's wire format, and WhatsApp's limits checked first."""

from __future__ import annotations

import pytest

from channels.base import (
    ListRow,
    OutboundInteractive,
    OutboundMedia,
    OutboundTemplate,
    OutboundText,
    ReplyButton,
)
from channels.whatsapp_messages import CAPABILITIES, message_object


def test_text_with_a_reply_context():
    assert message_object(OutboundText("hola", reply_to="wamid.IN")) == {
        "type": "text",
        "text": {"body": "hola", "preview_url": False},
        "context": {"message_id": "wamid.IN"},
    }


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        (OutboundMedia("image", "a.jpg", media_id="77", caption="Red"),
         {"type": "image", "image": {"id": "77", "caption": "Red"}}),
        (OutboundMedia("document", "spec.pdf", link="https://x/spec.pdf", caption="Specs"),
         {"type": "document",
          "document": {"link": "https://x/spec.pdf", "caption": "Specs", "filename": "spec.pdf"}}),
        (OutboundMedia("audio", "v.ogg", media_id="9", caption="dropped: audio has none"),
         {"type": "audio", "audio": {"id": "9"}}),
    ],
)  # fmt: skip
def test_media_by_id_or_link(media, expected):
    assert message_object(media) == expected


def test_a_template_with_body_parameters():
    template = OutboundTemplate("switchboard_question_answer", "es", ("Shop", "¿Envían?"))
    assert message_object(template) == {
        "type": "template",
        "template": {
            "name": "switchboard_question_answer",
            "language": {"code": "es"},
            "components": [{"type": "body", "parameters": [
                {"type": "text", "text": "Shop"}, {"type": "text", "text": "¿Envían?"}]}],
        },
    }  # fmt: skip
    assert "components" not in message_object(OutboundTemplate("hello", "en"))["template"]


def test_reply_buttons_list_and_url_button():
    buttons = OutboundInteractive("Size?", buttons=(ReplyButton("s", "S"), ReplyButton("m", "M")))
    assert message_object(buttons)["interactive"] == {
        "type": "button", "body": {"text": "Size?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "s", "title": "S"}},
                               {"type": "reply", "reply": {"id": "m", "title": "M"}}]},
    }  # fmt: skip
    rows = tuple(ListRow(str(n), f"Store {n}", "open 9-18") for n in range(10))
    listed = message_object(OutboundInteractive("Pick a store", list_button="Stores", rows=rows))
    assert listed["interactive"]["type"] == "list"
    assert listed["interactive"]["action"]["sections"][0]["rows"][9] == {
        "id": "9", "title": "Store 9", "description": "open 9-18"
    }
    link = OutboundInteractive("Your cart", url="https://shop/c/1", url_label="Checkout")
    assert message_object(link)["interactive"]["action"] == {
        "name": "cta_url", "parameters": {"display_text": "Checkout", "url": "https://shop/c/1"}
    }


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (OutboundInteractive("x", buttons=tuple(ReplyButton(str(n), str(n)) for n in range(4))),
         "at most 3 reply buttons"),
        (OutboundInteractive("x", buttons=(ReplyButton("a", "A much too long button title"),)),
         "button title"),
        (OutboundInteractive("x", buttons=(ReplyButton("a", "Same"), ReplyButton("b", "Same"))),
         "button titles must be unique"),
        (OutboundInteractive("x", list_button="Go",
                             rows=tuple(ListRow(str(n), "r") for n in range(11))),
         "at most 10 list rows"),
        (OutboundInteractive("", buttons=(ReplyButton("a", "A"),)), "body"),
        (OutboundInteractive("x"), "buttons, a list, a URL button"),
        (OutboundMedia("image", "a.jpg"), "media id or a link"),
    ],
)  # fmt: skip
def test_what_whatsapp_would_refuse_is_refused_with_the_reason(message, reason):
    with pytest.raises(ValueError, match=reason):
        message_object(message)


def test_the_24_hour_window_is_a_capability():
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    assert CAPABILITIES.within_window(now - timedelta(hours=23), now)
    assert not CAPABILITIES.within_window(now - timedelta(hours=25), now)
    assert not CAPABILITIES.within_window(None, now)
