"""The task's soft time limit cuts a turn stuck on a hanging LLM, whatever the LLM layer's
retries, fallbacks and error handling do with the exception."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from channels.simulators.webhooks import text_message_payload
from persistence.db import session_scope
from persistence.models import Conversation
from services.handoff.handoff import HOLDING_TEXT
from tests.conftest import PHONE_NUMBER_ID
from tests.helpers import eventually, post_webhook

pytestmark = pytest.mark.integration


def _replies(graph) -> list[str]:
    return [s["text"]["body"] for s in graph.sent if s.get("type") == "text"]


def test_a_turn_stuck_on_a_hanging_llm_is_cut_at_the_soft_time_limit(
    workers, client, merchant, fakes
):
    # no turn deadline and a long per-request timeout: only the soft time limit can end it
    workers.discard()  # fresh and idle: no warm shutdown to wait for
    workers.start(
        TASK_SOFT_TIME_LIMIT_SECONDS="4",
        TASK_TIME_LIMIT_SECONDS="60",
        TURN_DEADLINE_SECONDS="0",
        LLM_TIMEOUT_SECONDS="50",
    )
    for name in ("gemini", "openai"):
        fakes[name].hang(40, times=4)
    started = time.monotonic()
    post_webhook(client, text_message_payload(phone_number_id=PHONE_NUMBER_ID, text="hello?"))
    eventually(lambda: _replies(fakes["graph"]), timeout=30)
    assert time.monotonic() - started < 20  # the limit (plus the buffer), not the hang
    time.sleep(1)
    assert _replies(fakes["graph"]) == [HOLDING_TEXT]
    # the signal was not taken for a provider failure: the fallback was never asked
    assert len(fakes["openai"].requests) == 0
    with session_scope() as session:
        assert session.scalars(select(Conversation)).one().needs_human
    assert "turn.soft_time_limit" in workers.worker_log()
