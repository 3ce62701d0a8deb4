"""Webhook in, reply out: the whole pipeline on PostgreSQL, Redis and a real Celery worker."""

from __future__ import annotations

import time
from typing import Any

import pytest

from channels.simulators.webhooks import new_wamid, text_message_payload
from services.handoff.handoff import HOLDING_TEXT
from tests.helpers import eventually, messages_in_db, post_webhook

pytestmark = pytest.mark.integration


def test_a_message_gets_an_ai_reply(stack, client, merchant, fakes):
    fakes["gemini"].reply("Hello Ana! How can I help?")
    response = post_webhook(
        client, text_message_payload(phone_number_id=merchant["phone_number_id"], text="hi there")
    )
    assert response.status_code == 200
    sent = fakes["graph"].wait_for_sent(1, timeout=20)
    assert sent[0]["to"] == "15551234567"
    assert sent[0]["text"]["body"] == "Hello Ana! How can I help?"
    outbound = eventually(lambda: [m for m in messages_in_db(direction="out") if m.wamid])
    assert outbound[0].wamid == sent[0]["_wamid"]
    assert outbound[0].author == "ai"
    request = fakes["gemini"].requests[0]
    assert "hi there" in fakes["gemini"].user_texts(request)[-1]


def test_a_burst_of_three_gives_one_llm_call_and_one_reply(stack, client, merchant, fakes):
    phone = merchant["phone_number_id"]
    base = int(time.time())
    for i, text in enumerate(["I want shoes", "size 42", "in red"]):
        payload = text_message_payload(phone_number_id=phone, text=text, timestamp=base + i)
        assert post_webhook(client, payload).status_code == 200
        time.sleep(0.2)
    fakes["graph"].wait_for_sent(1, timeout=20)
    time.sleep(2.5)  # longer than a window: a second turn would show up now
    assert len(fakes["gemini"].requests) == 1
    assert len(fakes["graph"].sent) == 1
    user_text = fakes["gemini"].user_texts(fakes["gemini"].requests[0])[-1]
    assert user_text.index("I want shoes") < user_text.index("size 42") < user_text.index("in red")


def test_the_same_delivery_twice_gives_one_reply(stack, client, merchant, fakes):
    payload = text_message_payload(phone_number_id=merchant["phone_number_id"], wamid=new_wamid())
    assert post_webhook(client, payload).status_code == 200
    second = post_webhook(client, payload)
    assert second.status_code == 200
    assert len(messages_in_db(direction="in")) == 1  # the second, drained, stored nothing
    fakes["graph"].wait_for_sent(1, timeout=20)
    time.sleep(2.5)
    assert len(fakes["graph"].sent) == 1
    assert len(messages_in_db(direction="in")) == 1


def _conversation():
    from sqlalchemy import select

    from persistence.db import session_scope
    from persistence.models import Conversation

    with session_scope() as session:
        return session.scalars(select(Conversation)).one()


def test_a_message_during_a_running_turn_is_answered_in_the_next_turn(
    stack, client, merchant, fakes
):
    phone = merchant["phone_number_id"]
    fakes["gemini"].delay = 2.5  # the first turn is still thinking when the second message comes
    post_webhook(client, text_message_payload(phone_number_id=phone, text="first question"))
    fakes["gemini"].wait_for_requests(1, timeout=20)
    post_webhook(client, text_message_payload(phone_number_id=phone, text="second question"))
    sent = fakes["graph"].wait_for_sent(2, timeout=30)
    requests = fakes["gemini"].requests
    assert len(requests) == 2
    assert "second question" not in fakes["gemini"].user_texts(requests[0])[-1]
    assert "second question" in fakes["gemini"].user_texts(requests[1])[-1]
    # the second turn sees the first exchange as history
    assert any("first question" in t for t in fakes["gemini"].user_texts(requests[1]))
    assert [s["text"]["body"] for s in sent] == ["Echo: first question", "Echo: second question"]


def test_gemini_failing_falls_back_to_openai(stack, client, merchant, fakes):
    fakes["gemini"].fail(500, times=5)
    fakes["openai"].reply("Answer from the fallback provider")
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    sent = fakes["graph"].wait_for_sent(1, timeout=30)
    assert sent[0]["text"]["body"] == "Answer from the fallback provider"
    assert len(fakes["gemini"].requests) == 2  # LLM_MAX_RETRIES=1: two attempts, then fallback
    assert _conversation().needs_human is False


def test_all_providers_failing_flags_the_conversation_for_a_human(stack, client, merchant, fakes):
    fakes["gemini"].fail(503, times=10)
    fakes["openai"].fail(500, times=10)
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    conversation = eventually(lambda: (c := _conversation()).needs_human and c, timeout=30)
    assert "could not answer" in conversation.needs_human_reason
    inbound = messages_in_db(direction="in")
    assert len(inbound) == 1 and inbound[0].turn_id is not None  # consumed, kept, not lost
    time.sleep(1.5)
    assert [s["text"]["body"] for s in fakes["graph"].sent] == [HOLDING_TEXT]  # told once


def test_empty_model_replies_are_never_silence(stack, client, merchant, fakes):
    fakes["gemini"].empty("SAFETY", times=2)  # asked again once, then the fallback
    fakes["openai"].empty(times=2)
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    conversation = eventually(lambda: (c := _conversation()).needs_human and c, timeout=30)
    assert "empty reply" in conversation.needs_human_reason
    assert len(fakes["gemini"].requests) == 2 and len(fakes["openai"].requests) == 2
    sent = fakes["graph"].wait_for_sent(1, timeout=10)
    assert [s["text"]["body"] for s in sent] == [HOLDING_TEXT]


def test_the_model_can_hand_over_to_a_human(stack, client, merchant, fakes):
    fakes["gemini"].call_tool("request_intervention", {"reason": "Customer wants a refund"})
    fakes["gemini"].reply("A colleague will follow up with you here.")
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    sent = fakes["graph"].wait_for_sent(1, timeout=20)
    assert sent[0]["text"]["body"] == "A colleague will follow up with you here."
    conversation = _conversation()
    assert conversation.needs_human and conversation.needs_human_reason == "Customer wants a refund"
    assert "request_intervention" in fakes["gemini"].tool_names(fakes["gemini"].requests[0])


def test_a_redis_flush_inside_the_window_still_gives_exactly_one_reply(
    stack, client, merchant, fakes, servers
):
    import redis

    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    redis.Redis.from_url(servers["REDIS_URL"]).flushdb()  # the burst and its flush task are gone
    fakes["graph"].wait_for_sent(1, timeout=30)  # the sweeper found the stored message
    time.sleep(3)
    assert len(fakes["graph"].sent) == 1
    assert len(fakes["gemini"].requests) == 1


def test_a_long_reply_is_split_at_sentence_boundaries(stack, client, merchant, fakes):
    sentence = "This sentence is part of a very long answer. "
    fakes["gemini"].reply(sentence * 200)  # about 9,000 characters
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    fakes["graph"].wait_for_sent(3, timeout=20)
    bodies = [s["text"]["body"] for s in fakes["graph"].sent]
    assert len(bodies) == 3
    assert all(len(b) <= 4096 and b.endswith("answer.") for b in bodies)
    assert [m.seq for m in messages_in_db(direction="out")] == [0, 1, 2]


def _sends_before_each_read(graph: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many messages the Graph API had been sent when each read receipt came."""
    seen: list[int] = []
    monkeypatch.setattr(graph, "on_read", lambda *_: seen.append(len(graph.sent)))
    return seen


def test_a_turn_still_thinking_after_the_grace_shows_a_typing_indicator_before_its_reply(
    stack, client, merchant, fakes, monkeypatch
):
    seen = _sends_before_each_read(fakes["graph"], monkeypatch)
    fakes["gemini"].delay = 1.5  # a model thinking, as real ones do
    wamid = new_wamid()
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"],
                                              wamid=wamid))  # fmt: skip
    fakes["graph"].wait_for_sent(1, timeout=20)
    reads = fakes["graph"].reads
    assert [r["message_id"] for r in reads] == [wamid]
    assert reads[0]["typing_indicator"] == {"type": "text"}
    assert seen == [0]  # while the model thought, before the reply


def test_a_turn_answered_at_once_marks_the_message_read_after_its_reply_without_typing(
    stack, client, merchant, fakes, monkeypatch
):
    seen = _sends_before_each_read(fakes["graph"], monkeypatch)
    wamid = new_wamid()
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"],
                                              wamid=wamid))  # fmt: skip
    fakes["graph"].wait_for_sent(1, timeout=20)
    eventually(lambda: fakes["graph"].reads, timeout=10)
    reads = fakes["graph"].reads
    assert [r["message_id"] for r in reads] == [wamid]
    assert "typing_indicator" not in reads[0]
    assert seen == [1]  # the reply went first: no request held it back


def test_a_business_scoped_user_without_phone_is_answered_by_user_id(
    stack, client, merchant, fakes
):
    payload = text_message_payload(
        phone_number_id=merchant["phone_number_id"], wa_id=None, user_id="US.13491208655302741918"
    )
    assert post_webhook(client, payload).status_code == 200
    sent = fakes["graph"].wait_for_sent(1, timeout=20)
    assert sent[0]["recipient"] == "US.13491208655302741918"
    assert "to" not in sent[0]


def test_the_sweeper_answers_a_stored_message_whose_scheduling_was_lost(
    stack, client, merchant, fakes
):
    from dataclasses import replace

    lost = replace(client.app.state.scheduler, schedule_flush=lambda *_: None)
    client.app.state.scheduler = lost  # as if Redis lost the flush task after the 200
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    started = time.monotonic()
    fakes["graph"].wait_for_sent(1, timeout=30)
    # the burst was due after BUFFER_SECONDS (1); only the sweeper, one grace interval
    # (SWEEPER_INTERVAL_SECONDS, 1) later, could have flushed it
    assert time.monotonic() - started >= 1.8
    time.sleep(2)
    assert len(fakes["graph"].sent) == 1
