"""Instagram messaging webhooks parsed into our inbound events."""

from __future__ import annotations

import pytest

from channels.instagram.webhook import parse_instagram
from channels.simulators.instagram import message_event, webhook_body
from channels.webhook import InvalidNotification, choice_of

ACCOUNT, IGSID = "17841400000000001", "1234567890123456"


def parse(*events: dict):
    return parse_instagram(webhook_body(ACCOUNT, list(events)))


def event(**kwargs):
    return message_event(account_id=ACCOUNT, igsid=IGSID, **kwargs)


def test_text_message_is_an_inbound_message_from_the_igsid() -> None:
    raw = event(text="Do you ship to Spain?", mid="m1", at=1_700_000_000.5)
    (message,) = parse(raw).notification.messages
    assert message.phone_number_id == ACCOUNT
    assert message.wamid == "m1"
    assert (message.sender.user_id, message.sender.wa_id) == (IGSID, None)
    assert (message.type, message.text) == ("text", "Do you ship to Spain?")
    assert message.timestamp.timestamp() == 1_700_000_000.5


@pytest.mark.parametrize(
    ("kind", "ours"),
    [("image", "image"), ("video", "video"), ("audio", "audio"), ("file", "document")],
)
def test_attachments_are_media_by_url(kind: str, ours: str) -> None:
    url = f"https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&type={kind}"
    raw = event(attachments=[{"type": kind, "payload": {"url": url}}])
    (message,) = parse(raw).notification.messages
    assert message.type == ours
    assert message.media is not None and message.media.id.partition("#")[0] == url


def test_story_reply_and_story_mention_are_readable_text() -> None:
    story = {"story": {"url": "https://cdn/story.mp4", "id": "9"}}
    reply = event(text="Love it", reply_to=story)
    mention = event(attachments=[{"type": "story_mention", "payload": {"url": "https://cdn/s"}}])
    first, second = parse(reply, mention).notification.messages
    assert first.type == "story_reply" and first.text is not None
    assert "story" in first.text and first.text.endswith("Love it")
    assert second.type == "story_mention" and "mentioned you" in (second.text or "")


def test_reply_to_a_message_names_it() -> None:
    (message,) = parse(event(text="this one", reply_to={"mid": "m0"})).notification.messages
    assert message.context_wamid == "m0"


def test_quick_reply_reads_back_as_a_choice() -> None:
    raw = event(text="42", quick_reply={"payload": "size_42"})
    (message,) = parse(raw).notification.messages
    assert message.type == "interactive"
    choice = choice_of(message.raw)
    assert choice is not None and (choice.id, choice.title) == ("size_42", "42")


def test_reactions_are_quiet_messages_with_a_stable_id() -> None:
    reaction = {
        "sender": {"id": IGSID}, "recipient": {"id": ACCOUNT}, "timestamp": 1_700_000_000_000,
        "reaction": {"mid": "m1", "action": "react", "reaction": "love", "emoji": "\u2764"},
    }  # fmt: skip
    (first,) = parse(reaction).notification.messages
    (again,) = parse(reaction).notification.messages
    assert first.type == "reaction" and first.context_wamid == "m1"
    assert first.wamid == again.wamid
    assert first.text == "reacted \u2764 to a message"


def test_read_is_a_read_status_of_the_message() -> None:
    read = {"sender": {"id": IGSID}, "recipient": {"id": ACCOUNT},
            "timestamp": 1_700_000_000_000, "read": {"mid": "ours1"}}  # fmt: skip
    (status,) = parse(read).notification.statuses
    assert (status.wamid, status.status, status.recipient_user_id) == ("ours1", "read", IGSID)


def test_echo_is_the_business_speaking_to_the_customer() -> None:
    parsed = parse(event(text="Typed in the app", mid="e1", echo=True))
    assert parsed.notification.messages == ()
    (echo,) = parsed.echoes
    assert echo.from_business and echo.customer.user_id == IGSID
    assert (echo.wamid, echo.text, echo.phone_number_id) == ("e1", "Typed in the app", ACCOUNT)


def test_unsend_names_the_deleted_message() -> None:
    parsed = parse(event(mid="m1", is_deleted=True))
    assert [(u.account_id, u.mid) for u in parsed.unsends] == [(ACCOUNT, "m1")]
    assert parsed.notification.messages == ()


def test_an_odd_event_is_recorded_without_costing_its_siblings() -> None:
    parsed = parse({"sender": {"id": IGSID}}, event(text="fine"))
    assert len(parsed.notification.messages) == 1
    (invalid,) = parsed.notification.others
    assert invalid.field == "invalid_message"


@pytest.mark.parametrize("body", [
    [], {"object": "page", "entry": []}, {"object": "instagram"},
    {"object": "instagram", "entry": [{"id": ACCOUNT}]},
])  # fmt: skip
def test_a_body_that_is_not_an_instagram_notification_is_refused(body: object) -> None:
    with pytest.raises(InvalidNotification):
        parse_instagram(body)
