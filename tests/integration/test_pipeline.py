"""Webhook in, reply out: the whole pipeline on PostgreSQL, Redis and a real Celery worker."""

from __future__ import annotations

import time

import pytest

from tests.helpers import eventually, messages_in_db, post_webhook
from tests.webhooks import new_wamid, text_message_payload

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
    outbound = eventually(lambda: messages_in_db(direction="out"))
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
    assert second.json()["duplicates"] == 1
    fakes["graph"].wait_for_sent(1, timeout=20)
    time.sleep(2.5)
    assert len(fakes["graph"].sent) == 1
    assert len(messages_in_db(direction="in")) == 1
