"""The storage step of POST /webhook: the usual message (known number, customer and
conversation) goes in one statement, and whatever that statement cannot settle (a customer
to learn about, a conversation to open, a survey, a resolved conversation, parked messages)
still takes its own way; a webhook's statuses go in one monotonic UPDATE."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from channels.simulators.webhooks import new_wamid, status_payload, text_message_payload
from channels.webhook import StatusUpdate, parse_notification
from persistence.db import session_scope
from persistence.models import (
    Conversation,
    ConversationStatus,
    Customer,
    DeliveryStatus,
    Direction,
    Message,
)
from services.delivery.flows import apply_statuses
from services.ingest.ingest import IngestResult, record_notification
from services.merchants.merchant import add_phone_number
from services.parking import parking
from tests.factories import make_conversation, make_message

pytestmark = pytest.mark.integration

WA_ID = "15551234567"


def receive(merchant: dict, text: str, **fields: object) -> IngestResult:
    payload = text_message_payload(phone_number_id=merchant["phone_number_id"], wa_id=WA_ID,
                                   text=text, **fields)  # type: ignore[arg-type]  # fmt: skip
    with session_scope() as session:
        return record_notification(session, parse_notification(payload))


def the_customer() -> Customer:
    with session_scope() as session:
        [customer] = session.scalars(select(Customer)).all()
        return customer


def conversation_of(conversation_id: int) -> Conversation:
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation


def test_a_known_customer_with_a_new_profile_name_is_renamed_and_the_message_stored(merchant):
    first = receive(merchant, "hello", profile_name="Ana")
    second = receive(merchant, "it's me again", profile_name="Ana Souza")
    assert len(first.stored) == len(second.stored) == 1
    assert first.to_buffer == second.to_buffer
    assert the_customer().profile_name == "Ana Souza"
    again = receive(merchant, "and once more", profile_name="Ana Souza")
    assert len(again.stored) == 1
    assert [m.text for m in _inbound()] == ["hello", "it's me again", "and once more"]


def test_a_retried_delivery_of_a_known_conversation_is_a_duplicate_and_moves_nothing(merchant):
    receive(merchant, "hello")
    wamid, at = new_wamid(WA_ID), int(time.time()) - 60
    assert len(receive(merchant, "late one", wamid=wamid, timestamp=at).stored) == 1
    [conversation_id] = receive(merchant, "now").to_buffer
    last_inbound = conversation_of(conversation_id).last_inbound_at
    retried = receive(merchant, "late one", wamid=wamid, timestamp=at)
    assert (retried.stored, retried.duplicates, retried.to_buffer) == ([], 1, set())
    assert conversation_of(conversation_id).last_inbound_at == last_inbound
    assert len(_inbound()) == 3


def test_a_known_customer_writing_to_a_second_number_gets_a_conversation_there(merchant):
    [first] = receive(merchant, "hello").to_buffer
    with session_scope() as session:
        add_phone_number(
            session, merchant_id=merchant["id"], phone_number_id="109999000111",
            access_token="EAAG-second", display_phone_number="15550002222",
        )  # fmt: skip
    payload = text_message_payload(phone_number_id="109999000111", wa_id=WA_ID, text="hi there")
    with session_scope() as session:
        [second] = record_notification(session, parse_notification(payload)).to_buffer
    assert second != first
    assert conversation_of(second).customer_id == conversation_of(first).customer_id


def test_a_resolved_conversation_reopens_and_its_parked_messages_are_released(merchant):
    with session_scope() as session:
        conversation = make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"], wa_id=WA_ID
        )
        conversation.status = ConversationStatus.RESOLVED
        parked = make_message(
            session, conversation_id=conversation.id, status=DeliveryStatus.PARKED
        )
        conversation_id, parked_id = conversation.id, parked.id
    result = receive(merchant, "are you there?")
    assert result.to_buffer == {conversation_id}
    assert conversation_of(conversation_id).status == ConversationStatus.OPEN
    [released] = [m for m in _messages() if m.id == parked_id]
    assert released.status == DeliveryStatus.PENDING


def test_a_release_updates_the_sessions_own_copy_of_a_parked_message(merchant):
    with session_scope() as session:
        conversation = make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"], wa_id=WA_ID
        )
        message = make_message(session, conversation_id=conversation.id,
                               status=DeliveryStatus.FAILED, wamid=new_wamid(WA_ID))  # fmt: skip
        parking.park(message)  # not flushed yet: the release must see it all the same
        assert parking.release(session, conversation.id) == [message.id]
        assert message.status == DeliveryStatus.PENDING
        assert message.error_code is None


def _status(merchant: dict, wamid: str, name: str, at: int, **extra: object) -> StatusUpdate:
    payload = status_payload(phone_number_id=merchant["phone_number_id"], wamid=wamid,
                             status=name, timestamp=at, **extra)  # type: ignore[arg-type]  # fmt: skip
    [status] = parse_notification(payload).statuses
    return status


def test_a_webhooks_statuses_move_each_message_forward_never_back(merchant):
    wamids = [new_wamid(WA_ID) for _ in range(3)]
    with session_scope() as session:
        conversation = make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"], wa_id=WA_ID
        )
        ids = [
            make_message(session, conversation_id=conversation.id, wamid=wamids[0],
                         status=DeliveryStatus.ACCEPTED).id,
            make_message(session, conversation_id=conversation.id, wamid=wamids[1],
                         status=DeliveryStatus.READ).id,
            make_message(session, conversation_id=conversation.id, wamid=None,
                         status=DeliveryStatus.UNKNOWN).id,
        ]  # fmt: skip
    at = int(time.time())
    statuses = [
        _status(merchant, wamids[0], "delivered", at),
        _status(merchant, wamids[1], "sent", at + 1),  # late: the message was read
        _status(merchant, wamids[2], "delivered", at + 2, callback_data=f"sb:{ids[2]}"),
        _status(merchant, new_wamid(WA_ID), "read", at + 3),  # none of ours
    ]
    assert apply_statuses(statuses) == 2
    by_id = {m.id: m for m in _messages()}
    assert by_id[ids[0]].status == DeliveryStatus.DELIVERED
    assert by_id[ids[0]].status_at == datetime.fromtimestamp(at, UTC)
    assert by_id[ids[1]].status == DeliveryStatus.READ
    assert (by_id[ids[2]].status, by_id[ids[2]].wamid) == (DeliveryStatus.DELIVERED, wamids[2])


def test_a_webhooks_failed_status_is_recorded_with_the_others(merchant):
    wamids = [new_wamid(WA_ID) for _ in range(2)]
    with session_scope() as session:
        conversation = make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"], wa_id=WA_ID
        )
        ids = [make_message(session, conversation_id=conversation.id, wamid=w).id
               for w in wamids]  # fmt: skip
    at = int(time.time())
    error = {"code": 131026, "title": "Message undeliverable"}
    statuses = [_status(merchant, wamids[0], "failed", at, errors=[error]),
                _status(merchant, wamids[1], "read", at)]  # fmt: skip
    assert apply_statuses(statuses) == 2
    by_id = {m.id: m for m in _messages()}
    assert (by_id[ids[0]].status, by_id[ids[0]].error_code) == (DeliveryStatus.FAILED, 131026)
    assert by_id[ids[1]].status == DeliveryStatus.READ


def test_statuses_of_one_message_in_a_webhook_end_on_the_furthest(merchant):
    wamid = new_wamid(WA_ID)
    with session_scope() as session:
        conversation = make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"], wa_id=WA_ID
        )
        message_id = make_message(session, conversation_id=conversation.id, wamid=wamid).id
        session.execute(update(Message).where(Message.id == message_id).values(status="sent"))
    at = int(time.time())
    statuses = [_status(merchant, wamid, "read", at + 1), _status(merchant, wamid, "delivered", at)]
    assert apply_statuses(statuses) == 1
    [message] = [m for m in _messages() if m.id == message_id]
    assert (message.status, message.status_at) == (
        DeliveryStatus.READ, datetime.fromtimestamp(at + 1, UTC),
    )  # fmt: skip


def _messages() -> list[Message]:
    with session_scope() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def _inbound() -> list[Message]:
    return [m for m in _messages() if m.direction == Direction.INBOUND]
