"""Twilio's wire format: the signature (Twilio's published examples) and parsing its forms."""

from __future__ import annotations

import pytest

from channels.twilio.signature import compute_signature, valid_signature
from channels.twilio.webhook import parse_inbound, parse_status
from channels.webhook import InvalidNotification

URL = "https://mycompany.com/myapp.php?foo=1&bar=2"


def _call(caller: str) -> dict[str, str]:
    return {"CallSid": "CA1234567890ABCDE", "Caller": caller, "Digits": "1234",
            "From": caller, "To": "+18005551212"}  # fmt: skip


@pytest.mark.parametrize(
    "caller,signature",
    [("+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="),
     ("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")],
)  # fmt: skip
def test_the_signature_matches_twilios_published_examples(caller, signature):
    params = _call(caller)
    assert compute_signature("12345", URL, params.items()) == signature
    assert valid_signature("12345", URL, params.items(), signature)
    assert not valid_signature("12345", URL.replace("bar=2", "bar=3"), params.items(), signature)
    assert not valid_signature("12345", URL, params.items(), None)


FORM = {"MessageSid": "SM" + "1" * 32, "AccountSid": "AC" + "2" * 32, "WaId": "15551234567",
        "From": "whatsapp:+15551234567", "To": "whatsapp:+14155238886", "Body": "hi",
        "ProfileName": "Ana", "NumMedia": "0"}  # fmt: skip


def test_an_inbound_text_becomes_our_inbound_message():
    message = parse_inbound(FORM)
    assert (message.phone_number_id, message.sender.wa_id) == ("+14155238886", "15551234567")
    assert (message.type, message.text, message.channel) == ("text", "hi", "twilio_whatsapp")
    assert message.wamid == FORM["MessageSid"] and message.sender.profile_name == "Ana"


def test_media_and_buttons_are_read():
    url = "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM1/Media/ME1"
    media = parse_inbound({**FORM, "NumMedia": "1", "MediaUrl0": url,
                           "MediaContentType0": "image/jpeg"})  # fmt: skip
    assert media.type == "image" and media.media is not None and media.media.id == url
    button = parse_inbound({**FORM, "ButtonPayload": "yes", "ButtonText": "Yes"})
    assert button.type == "button" and button.raw["button_payload"] == "yes"


@pytest.mark.parametrize(
    "change", [{"MessageSid": ""}, {"To": "+14155238886x"}, {"WaId": "", "From": "sms:1"},
               {"NumMedia": "x"}, {"NumMedia": "1"}],
)  # fmt: skip
def test_malformed_inbound_forms_are_refused(change):
    with pytest.raises(InvalidNotification):
        parse_inbound({**FORM, **change})


def test_statuses_map_to_ours_and_queued_moves_nothing():
    base = {"MessageSid": "SM1", "From": "whatsapp:+14155238886", "To": "whatsapp:+15551234567"}
    assert parse_status({**base, "MessageStatus": "queued"}) is None
    assert parse_status({**base, "MessageStatus": "read"}).status == "read"
    failed = parse_status({**base, "MessageStatus": "undelivered", "ErrorCode": "63016"})
    assert failed.status == "failed" and failed.errors[0].code == 63016
    assert failed.recipient_wa_id == "15551234567"
