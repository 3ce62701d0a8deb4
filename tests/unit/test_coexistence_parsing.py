"""The WhatsApp Business app's coexistence webhooks, read from Meta's recorded shapes."""

from __future__ import annotations

from channels.coexistence import coexistence_of
from channels.webhook import parse_notification
from tests.helpers import load_payload


def _coexistence(name: str):
    (change,) = parse_notification(load_payload(name)).others
    found = coexistence_of(change)
    assert found is not None
    return found


def test_an_echo_is_the_business_speaking_to_the_customer_in_to() -> None:
    (echo,) = _coexistence("smb_message_echoes").echoes
    assert echo.from_business and echo.phone_number_id == "106540352242922"
    assert echo.customer.wa_id == "16505551234" and echo.customer.user_id is None
    assert echo.wamid.startswith("wamid.") and echo.type == "text"
    assert echo.text == "Hi Ana, your order ships tomorrow."


def test_history_tells_the_customer_side_from_the_business_side() -> None:
    history = _coexistence("history").history
    assert [(m.from_business, m.text) for m in history] == [
        (False, "Do you have the red sneakers in 42?"),
        (True, "Yes, we do!"),
    ]
    assert {m.customer.wa_id for m in history} == {"16505551234"}


def test_app_contacts_carry_names_and_removals() -> None:
    added, removed = _coexistence("smb_app_state_sync").contacts
    assert (added.wa_id, added.name, added.removed) == ("16505551234", "Pablo Morales", False)
    assert (removed.wa_id, removed.name, removed.removed) == ("16505550000", None, True)


def test_an_echo_without_id_is_reported_not_raised() -> None:
    payload = load_payload("smb_message_echoes")
    del payload["entry"][0]["changes"][0]["value"]["message_echoes"][0]["id"]
    (change,) = parse_notification(payload).others
    found = coexistence_of(change)
    assert found is not None and found.echoes == ()
    assert [reason for reason, _ in found.invalid] == ["message id or timestamp is missing"]


def test_other_fields_are_not_coexistence() -> None:
    (change,) = parse_notification(load_payload("template_status_update")).others
    assert coexistence_of(change) is None
