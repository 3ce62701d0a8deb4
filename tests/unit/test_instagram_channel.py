"""The Instagram channel against the Instagram simulator, over real loopback HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from channels.base import (
    Card,
    ListRow,
    OutboundCards,
    OutboundInteractive,
    OutboundMedia,
    OutboundTemplate,
    OutboundText,
    Recipient,
    ReplyButton,
)
from channels.errors import AuthError, InvalidRequest, OutsideServiceWindow, Undeliverable
from channels.instagram.channel import InstagramChannel
from channels.simulators.instagram import InstagramSimulator

ACCOUNT, TOKEN, IGSID = "17841400000000001", "IGAA-test-token", "1234567890123456"
CUSTOMER = Recipient(user_id=IGSID)


@pytest.fixture
def fake() -> Iterator[InstagramSimulator]:
    with InstagramSimulator(tokens={ACCOUNT: TOKEN}) as server:
        yield server


def channel(fake: InstagramSimulator, token: str = TOKEN) -> InstagramChannel:
    return InstagramChannel(
        api_root=f"{fake.url}/v23.0", access_token=token, phone_number_id=ACCOUNT,
        max_attempts=2, backoff_base=0.01,
    )  # fmt: skip


def test_text_goes_to_the_igsid_as_a_response(fake: InstagramSimulator) -> None:
    mid = channel(fake).send_message(CUSTOMER, OutboundText("Hello!"))
    (sent,) = fake.sent
    assert sent["_mid"] == mid and sent["_account_id"] == ACCOUNT
    assert sent["recipient"] == {"id": IGSID}
    assert sent["message"] == {"text": "Hello!"}
    assert sent["messaging_type"] == "RESPONSE"


def test_image_goes_by_url(fake: InstagramSimulator) -> None:
    image = OutboundMedia("image", "shoe.jpg", link="https://cdn.example/shoe.jpg")
    channel(fake).send_message(CUSTOMER, image)
    attachment = fake.sent[0]["message"]["attachment"]
    assert attachment == {"type": "image", "payload": {"url": "https://cdn.example/shoe.jpg"}}


def test_buttons_become_quick_replies(fake: InstagramSimulator) -> None:
    buttons = (ReplyButton("size_42", "42"), ReplyButton("size_43", "43"))
    channel(fake).send_message(CUSTOMER, OutboundInteractive("Which size?", buttons=buttons))
    message = fake.sent[0]["message"]
    assert message["text"] == "Which size?"
    assert message["quick_replies"] == [
        {"content_type": "text", "title": "42", "payload": "size_42"},
        {"content_type": "text", "title": "43", "payload": "size_43"},
    ]


def test_lists_templates_and_documents_are_refused_before_any_request(
    fake: InstagramSimulator,
) -> None:
    ig = channel(fake)
    rows = (ListRow("a", "A"),)
    assert ig.refusal(OutboundInteractive("Pick", list_button="Open", rows=rows))
    assert ig.refusal(OutboundTemplate("hello", "en"))
    assert ig.refusal(OutboundMedia("document", "a.pdf", link="https://x/a.pdf"))
    too_many = tuple(ReplyButton(str(i), str(i)) for i in range(14))
    assert "13" in (ig.refusal(OutboundInteractive("Pick", buttons=too_many)) or "")
    with pytest.raises(InvalidRequest):
        ig.send_message(CUSTOMER, OutboundTemplate("hello", "en"))
    assert fake.requests == []
    assert not ig.capabilities.templates


def test_cards_go_as_a_generic_template(fake: InstagramSimulator) -> None:
    card = Card("Runner 42", "59.00 EUR", "https://cdn/x.jpg", "https://shop/x", "View")
    channel(fake).send_message(CUSTOMER, OutboundCards((card,)))
    payload = fake.sent[0]["message"]["attachment"]["payload"]
    assert payload["template_type"] == "generic"
    (element,) = payload["elements"]
    assert element["title"] == "Runner 42" and element["image_url"] == "https://cdn/x.jpg"
    assert element["buttons"] == [{"type": "web_url", "url": "https://shop/x", "title": "View"}]


def test_outside_the_window_a_response_is_refused_but_a_human_agent_may_answer(
    fake: InstagramSimulator,
) -> None:
    fake.customer_wrote(IGSID, at=time.time() - 3 * 24 * 3600)
    with pytest.raises(OutsideServiceWindow) as refused:
        channel(fake).send_message(CUSTOMER, OutboundText("Still there?"))
    assert (refused.value.code, refused.value.subcode) == (10, 2534022)
    channel(fake).as_human_agent().send_message(CUSTOMER, OutboundText("An agent here"))
    (sent,) = fake.sent
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_beyond_seven_days_even_a_human_agent_is_refused(fake: InstagramSimulator) -> None:
    fake.customer_wrote(IGSID, at=time.time() - 8 * 24 * 3600)
    with pytest.raises(OutsideServiceWindow):
        channel(fake).as_human_agent().send_message(CUSTOMER, OutboundText("Hello?"))
    assert fake.sent == []


def test_errors_are_typed(fake: InstagramSimulator) -> None:
    fake.unavailable(IGSID)
    with pytest.raises(Undeliverable):
        channel(fake).send_message(CUSTOMER, OutboundText("Hi"))
    with pytest.raises(AuthError):
        channel(fake, token="wrong").send_message(CUSTOMER, OutboundText("Hi"))


def test_server_errors_are_retried(fake: InstagramSimulator) -> None:
    fake.fail_next(1)
    channel(fake).send_message(CUSTOMER, OutboundText("Hi"))
    assert len(fake.sent) == 1


def test_token_stays_out_of_repr() -> None:
    ig = InstagramChannel(api_root="https://x/v23.0", access_token=TOKEN, phone_number_id=ACCOUNT)
    assert TOKEN not in repr(ig)


def test_an_attachment_url_is_its_own_media_info() -> None:
    ig = InstagramChannel(api_root="https://x/v23.0", access_token=TOKEN, phone_number_id=ACCOUNT)
    url = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"
    info = ig.media_info(f"{url}#image/jpeg")
    assert (info.url, info.mime_type) == (url, "image/jpeg")


def test_a_customer_profile_gives_name_and_username(fake: InstagramSimulator) -> None:
    fake.add_user(IGSID, name="Ana Lima", username="ana.lima")
    assert channel(fake).user_profile(IGSID) == {"name": "Ana Lima", "username": "ana.lima"}
    with pytest.raises(InvalidRequest):
        channel(fake).user_profile("999")
