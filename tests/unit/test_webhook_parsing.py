from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from channels.simulators.webhooks import (
    message_payload,
    new_wamid,
    status_payload,
    text_message_payload,
)
from channels.webhook import (
    InboundMessage,
    InvalidNotification,
    MediaRef,
    Notification,
    OtherChange,
    StatusError,
    parse_notification,
)
from tests.helpers import load_payload

PNID = "106540352242922"
PHONE = "16505551234"
BSUID = "US.13491208655302741918"


def only_message(name: str) -> InboundMessage:
    notification = parse_notification(load_payload(name))
    assert len(notification.messages) == 1
    assert notification.statuses == () and notification.others == ()
    return notification.messages[0]


@pytest.mark.parametrize(
    ("name", "type_", "text"),
    [
        ("message_text", "text", "Olá! Vocês entregam no sábado?"),
        ("message_image", "image", "This one, in blue please"),
        ("message_audio_voice", "audio", None),
        ("message_video", "video", "it arrived like this"),
        ("message_document", "document", "my invoice"),
        ("message_sticker", "sticker", None),
        (
            "message_location",
            "location",
            "Location: MASP, Av. Paulista, 1578 - Bela Vista, São Paulo (-23.5613, -46.6565)",
        ),
        (
            "message_contacts",
            "contacts",
            "Contacts: Bruno Lima (+55 11 91234-5678, +55 11 3333-4444); Carla (+1 650-555-0199)",
        ),
        ("message_interactive_button_reply", "interactive", "Talk to a person"),
        (
            "message_interactive_list_reply",
            "interactive",
            "Express shipping — Delivered in 1-2 business days",
        ),
        ("message_button", "button", "Yes, confirm"),
        ("message_reaction", "reaction", "reacted 👍 to a message"),
        ("message_text_reply_context", "text", "Is this still available?"),
        ("message_unsupported", "unsupported", None),
    ],
)
def test_each_recorded_message_type_parses_to_its_type_and_readable_text(
    name: str, type_: str, text: str | None
) -> None:
    payload = load_payload(name)
    raw = payload["entry"][0]["changes"][0]["value"]["messages"][0]

    message = only_message(name)

    assert message.type == type_
    assert message.text == text
    assert message.wamid == raw["id"]
    assert message.raw == raw
    assert message.phone_number_id == PNID
    assert message.display_phone_number == "15550783881"
    assert message.timestamp == datetime(2026, 1, 1, tzinfo=UTC)
    assert message.sender.wa_id == PHONE
    assert message.sender.profile_name == "Ana Souza"


@pytest.mark.parametrize(
    ("name", "media"),
    [
        (
            "message_image",
            MediaRef(
                id="1503827460841592",
                mime_type="image/jpeg",
                sha256="Zk9yM2pVcVJ6dDFyUmZkV2ZQZ0FhS3RnSmxZbXhtSXJ1QT0=",
                filename=None,
            ),
        ),
        (
            "message_audio_voice",
            MediaRef(
                id="1198443225312776",
                mime_type="audio/ogg; codecs=opus",
                sha256="b1e4uW8mWqKzVvP2bQWkF0Zl2S9fJr9Kk3qfVQ2m8ok=",
                filename=None,
                voice=True,
            ),
        ),
        (
            "message_document",
            MediaRef(
                id="2113987425631140",
                mime_type="application/pdf",
                sha256="hO6m8Wl0cT6R3uQ2y0Xn0jH3G0aJ7m6pZQ1vQ4s2s1Y=",
                filename="invoice-2026-001.pdf",
            ),
        ),
    ],
)
def test_media_messages_carry_a_media_reference(name: str, media: MediaRef) -> None:
    assert only_message(name).media == media


@pytest.mark.parametrize("name", ["message_video", "message_sticker"])
def test_video_and_sticker_have_media_ids(name: str) -> None:
    message = only_message(name)
    assert message.media is not None and message.media.id.isdigit()
    assert message.media.voice is False and message.media.animated is False


def test_animated_sticker_is_flagged() -> None:
    sticker = {
        "type": "sticker",
        "sticker": {"id": "55", "mime_type": "image/webp", "animated": True},
    }
    payload = message_payload(phone_number_id=PNID, message=sticker)
    assert parse_notification(payload).messages[0].media == MediaRef(
        id="55", mime_type="image/webp", sha256=None, filename=None, animated=True
    )


@pytest.mark.parametrize("name", ["message_text", "message_location", "message_contacts"])
def test_non_media_messages_have_no_media_and_no_context(name: str) -> None:
    message = only_message(name)
    assert message.media is None
    assert message.context_wamid is None


@pytest.mark.parametrize(
    "name",
    [
        "message_text_reply_context",
        "message_interactive_button_reply",
        "message_interactive_list_reply",
        "message_button",
    ],
)
def test_replies_point_at_the_message_they_answer(name: str) -> None:
    raw = load_payload(name)["entry"][0]["changes"][0]["value"]["messages"][0]
    assert only_message(name).context_wamid == raw["context"]["id"]


def test_reaction_points_at_the_reacted_message() -> None:
    raw = load_payload("message_reaction")["entry"][0]["changes"][0]["value"]["messages"][0]
    assert only_message("message_reaction").context_wamid == raw["reaction"]["message_id"]


def test_removed_reaction_is_still_readable() -> None:
    reaction = {"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": ""}}
    message = parse_notification(message_payload(phone_number_id=PNID, message=reaction))
    assert message.messages[0].text == "removed a reaction from a message"


def test_old_shape_without_user_id_has_only_a_phone_sender() -> None:
    sender = only_message("message_text").sender
    assert (sender.wa_id, sender.user_id, sender.username) == (PHONE, None, None)


def test_bsuid_shape_with_phone_carries_both_ids() -> None:
    sender = only_message("message_text_bsuid").sender
    assert (sender.wa_id, sender.user_id) == (PHONE, BSUID)


def test_username_only_user_is_known_by_user_id_alone() -> None:
    message = only_message("message_text_bsuid_only")
    assert message.sender.wa_id is None
    assert message.sender.user_id == BSUID
    assert message.sender.username == "@mia.rose"
    assert message.sender.profile_name == "Mia"
    assert message.text == "hello from a username-only account"


def test_user_id_comes_from_the_contact_when_the_message_lacks_from_user_id() -> None:
    payload = text_message_payload(phone_number_id=PNID, user_id=BSUID)
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["from_user_id"]
    assert parse_notification(payload).messages[0].sender.user_id == BSUID


def test_bsuid_in_from_is_treated_as_a_user_id_not_a_phone() -> None:
    payload = message_payload(phone_number_id=PNID, message={"from": BSUID, "type": "text"})
    sender = parse_notification(payload).messages[0].sender
    assert (sender.wa_id, sender.user_id) == ("15551234567", BSUID)  # phone from the contact


def test_each_message_is_matched_to_its_own_contact() -> None:
    payload = text_message_payload(phone_number_id=PNID, wa_id="111", profile_name="Ana")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"].append({"profile": {"name": "Bea"}, "wa_id": "222", "user_id": "BR.9"})
    value["messages"].append({**value["messages"][0], "from": "222", "id": new_wamid("222")})

    first, second = parse_notification(payload).messages

    assert (first.sender.wa_id, first.sender.profile_name, first.sender.user_id) == (
        "111",
        "Ana",
        None,
    )
    assert (second.sender.wa_id, second.sender.profile_name, second.sender.user_id) == (
        "222",
        "Bea",
        "BR.9",
    )


def test_a_single_contact_is_the_sender_even_when_its_wa_id_differs_from_from() -> None:
    payload = text_message_payload(phone_number_id=PNID, wa_id="5215512345678", user_id=BSUID)
    payload["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] = "525512345678"
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["from_user_id"]
    sender = parse_notification(payload).messages[0].sender
    assert (sender.wa_id, sender.user_id, sender.profile_name) == ("5215512345678", BSUID, "Ana")


def test_multi_entry_multi_change_yields_everything_in_order() -> None:
    notification = parse_notification(load_payload("multi_entry"))

    assert [(m.phone_number_id, m.type, m.sender.profile_name) for m in notification.messages] == [
        ("106540352242922", "text", "Ana Souza"),
        ("117654321098765", "image", "Oliver"),
    ]
    assert [(s.phone_number_id, s.status) for s in notification.statuses] == [
        ("117654321098765", "delivered")
    ]
    assert notification.messages[1].display_phone_number == "15550199002"
    assert notification.others == ()


@pytest.mark.parametrize("status", ["sent", "delivered", "read"])
def test_delivery_statuses_parse(status: str) -> None:
    (update,) = parse_notification(load_payload(f"status_{status}")).statuses
    assert update.status == status
    assert update.recipient_wa_id == PHONE
    assert update.errors == ()
    assert update.wamid.startswith("wamid.")
    assert update.timestamp.tzinfo is UTC


def test_status_in_bsuid_shape_carries_the_recipient_user_id() -> None:
    (update,) = parse_notification(load_payload("status_read")).statuses
    assert update.recipient_user_id == BSUID


def test_old_status_shape_has_no_recipient_user_id() -> None:
    (update,) = parse_notification(load_payload("status_sent")).statuses
    assert update.recipient_user_id is None
    assert update.callback_data is None


def test_failed_status_carries_typed_errors() -> None:
    (update,) = parse_notification(load_payload("status_failed")).statuses
    assert update.status == "failed"
    assert update.errors == (
        StatusError(
            code=131047,
            title="Re-engagement message",
            message="Re-engagement message",
            details="Message failed to send because more than 24 hours have passed since the "
            "customer last replied to this number.",
        ),
    )


def test_status_carries_biz_opaque_callback_data() -> None:
    (update,) = parse_notification(load_payload("status_callback_data")).statuses
    assert update.callback_data == "conversation:42;message:1337"


def test_status_is_lowercased_and_errors_read_defensively() -> None:
    payload = status_payload(
        phone_number_id=PNID,
        wamid="wamid.A",
        status="FAILED",
        timestamp=1767225600,
        errors=[{"code": "130429", "title": "Rate limit hit"}, "junk", {"code": True}],
        callback_data="cb",
    )
    (update,) = parse_notification(payload).statuses
    assert update.status == "failed"
    assert update.errors == (
        StatusError(code=130429, title="Rate limit hit", message=None, details=None),
        StatusError(code=None, title=None, message=None, details=None),
    )
    assert update.callback_data == "cb"
    assert update.timestamp == datetime(2026, 1, 1, tzinfo=UTC)


def test_value_level_errors_are_kept_as_other_changes() -> None:
    payload = load_payload("errors_value")
    notification = parse_notification(payload)
    assert notification.messages == () and notification.statuses == ()
    assert notification.others == (
        OtherChange(field="errors", value=payload["entry"][0]["changes"][0]["value"]),
    )


def test_template_status_update_is_kept_as_other_change() -> None:
    notification = parse_notification(load_payload("template_status_update"))
    (other,) = notification.others
    assert other.field == "message_template_status_update"
    assert other.value["event"] == "APPROVED"
    assert other.value["message_template_name"] == "order_shipped"


def test_unknown_message_type_is_kept_not_dropped() -> None:
    message = {"type": "hologram", "hologram": {"body": "beam me up"}}
    (parsed,) = parse_notification(message_payload(phone_number_id=PNID, message=message)).messages
    assert (parsed.type, parsed.text, parsed.media) == ("hologram", "beam me up", None)


def test_unknown_type_without_readable_content_has_no_text() -> None:
    message = {"type": "call_permission_reply", "call_permission_reply": {"response": "accept"}}
    (parsed,) = parse_notification(message_payload(phone_number_id=PNID, message=message)).messages
    assert (parsed.type, parsed.text) == ("call_permission_reply", None)


@pytest.mark.parametrize(
    "message",
    [
        {"type": "text", "text": {"body": 42}},
        {"type": "text", "text": "not an object"},
        {"type": "image", "image": {"id": 7, "caption": ["x"]}},
        {"type": "location", "location": {"latitude": "north", "longitude": None}},
        {"type": "contacts", "contacts": [{"name": "x", "phones": "y"}, 3]},
        {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": None}},
        {"type": "reaction", "reaction": []},
        {"type": 5, "context": "nope"},
    ],
)
def test_wrong_field_types_inside_a_message_do_not_crash(message: dict) -> None:
    (parsed,) = parse_notification(message_payload(phone_number_id=PNID, message=message)).messages
    assert parsed.text is None
    assert parsed.media is None
    assert parsed.context_wamid is None


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ({"id": None}, "message id is missing"),
        ({"timestamp": None}, "message timestamp is missing or not unix seconds"),
        ({"timestamp": "yesterday"}, "message timestamp is missing or not unix seconds"),
    ],
)
def test_a_broken_message_is_skipped_into_others_while_siblings_parse(
    broken: dict, reason: str
) -> None:
    payload = text_message_payload(phone_number_id=PNID, text="good")
    messages = payload["entry"][0]["changes"][0]["value"]["messages"]
    bad = {**copy.deepcopy(messages[0]), "id": new_wamid(), **broken}
    bad = {key: value for key, value in bad.items() if value is not None}
    messages.insert(0, bad)
    messages.append({**messages[1], "id": new_wamid(), "text": {"body": "also good"}})

    notification = parse_notification(payload)

    assert [m.text for m in notification.messages] == ["good", "also good"]
    assert notification.others == (
        OtherChange(
            field="invalid_message",
            value={"reason": reason, "raw": bad, "phone_number_id": PNID},
        ),
    )


def test_a_message_with_no_sender_id_at_all_is_skipped() -> None:
    payload = message_payload(phone_number_id=PNID, message={"type": "text"}, wa_id=None)
    payload["entry"][0]["changes"][0]["value"]["contacts"] = []
    notification = parse_notification(payload)
    assert notification.messages == ()
    assert notification.others[0].field == "invalid_message"


def test_a_non_object_message_is_skipped_into_others() -> None:
    payload = text_message_payload(phone_number_id=PNID)
    payload["entry"][0]["changes"][0]["value"]["messages"].insert(0, "garbage")
    notification = parse_notification(payload)
    assert len(notification.messages) == 1
    assert notification.others[0].value["raw"] == "garbage"


def test_a_broken_status_is_skipped_into_others() -> None:
    payload = status_payload(phone_number_id=PNID, wamid="wamid.A", status="sent")
    statuses = payload["entry"][0]["changes"][0]["value"]["statuses"]
    statuses.append({"status": "read", "timestamp": "1767225600"})
    notification = parse_notification(payload)
    assert [s.wamid for s in notification.statuses] == ["wamid.A"]
    assert notification.others[0].field == "invalid_status"


def test_a_messages_change_without_phone_number_id_is_recorded_not_parsed() -> None:
    payload = text_message_payload(phone_number_id=PNID)
    del payload["entry"][0]["changes"][0]["value"]["metadata"]
    notification = parse_notification(payload)
    assert notification.messages == ()
    assert notification.others[0].field == "invalid_change"


def test_builder_text_payload_parses_with_given_ids() -> None:
    wamid = new_wamid()
    payload = text_message_payload(
        phone_number_id="999",
        wa_id=None,
        user_id="BR.1502576394655843",
        text="oi",
        wamid=wamid,
        timestamp=1767225600,
        context_wamid="wamid.CTX",
    )
    (message,) = parse_notification(payload).messages
    assert (message.phone_number_id, message.wamid, message.text) == ("999", wamid, "oi")
    assert (message.sender.wa_id, message.sender.user_id) == (None, "BR.1502576394655843")
    assert message.context_wamid == "wamid.CTX"


def test_new_wamids_are_unique_and_shaped_like_whatsapp_ids() -> None:
    ids = {new_wamid() for _ in range(100)}
    assert len(ids) == 100
    assert all(i.startswith("wamid.HBgL") for i in ids)


def test_empty_entry_list_is_an_empty_notification() -> None:
    payload = {"object": "whatsapp_business_account", "entry": []}
    assert parse_notification(payload) == Notification(messages=(), statuses=(), others=())


@pytest.mark.parametrize(
    "body",
    [
        [],
        None,
        "whatsapp_business_account",
        {"entry": []},
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": {"id": "1"}},
        {"object": "whatsapp_business_account", "entry": ["x"]},
        {"object": "whatsapp_business_account", "entry": [{"id": "1"}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages"}]}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {}}]}]},
    ],
)
def test_bodies_that_are_not_whatsapp_notifications_are_rejected(body: object) -> None:
    with pytest.raises(InvalidNotification):
        parse_notification(body)


def test_invalid_notification_is_a_value_error_that_says_why() -> None:
    with pytest.raises(ValueError, match="entry must be a list"):
        parse_notification({"object": "whatsapp_business_account", "entry": "x"})


@pytest.mark.parametrize("status", ["sent", "delivered", "read"])
def test_built_statuses_have_the_recorded_shape(status: str) -> None:
    recorded = load_payload(f"status_{status}")["entry"][0]["changes"][0]["value"]["statuses"][0]
    built = status_payload(phone_number_id=PNID, wamid="wamid.A", status=status)
    entry = built["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert set(entry) == set(recorded) - {"recipient_user_id"}
    assert set(entry.get("conversation", {})) == set(recorded.get("conversation", {}))
