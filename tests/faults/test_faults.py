"""Faults injected on the real stack: every inbound message answered once (or handed to a
person), no reply doubled, never two graph runs on one conversation."""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx
import pytest
from sqlalchemy import select

from channels.simulators.webhooks import DEFAULT_WA_ID, sign, status_payload, text_message_payload
from persistence.db import session_scope
from persistence.models import Conversation, Message
from services.handoff.handoff import HOLDING_TEXT
from tasks.signals import UNRECOVERABLE_EXIT_SECONDS
from tests.conftest import APP_SECRET, PHONE_NUMBER_ID
from tests.faults.conftest import (
    kill_pool_children,
    ledger,
    pg_ctl,
    restart_redis,
    stop_redis,
)
from tests.helpers import eventually, post_webhook

pytestmark = pytest.mark.integration


def _payload(text: str, **extra) -> dict:
    return text_message_payload(phone_number_id=PHONE_NUMBER_ID, text=text, **extra)


def _replies(graph) -> list[str]:
    return [s["text"]["body"] for s in graph.sent if s.get("type") == "text"]


def _conversation() -> Conversation:
    with session_scope() as session:
        return session.scalars(select(Conversation)).one()


# 1. duplicates ----------------------------------------------------------------------


def test_duplicates_sequential_concurrent_and_ten_minutes_late(workers, client, merchant, fakes):
    graph = fakes["graph"]
    payload = _payload("hello")
    for _ in range(3):
        assert post_webhook(client, payload).status_code == 200
    threads = [threading.Thread(target=post_webhook, args=(client, payload)) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    graph.wait_for_sent(1, timeout=20)
    time.sleep(1.5)  # a second reply would have come by now
    late = post_webhook(client, payload)  # WhatsApp retrying long after we answered
    assert late.status_code == 200
    time.sleep(1.5)
    assert _replies(graph) == ["Echo: hello"]
    ledger(graph, expect_inbound=1)


# 2. out of order --------------------------------------------------------------------


def test_a_burst_delivered_out_of_order_is_read_in_whatsapp_order(workers, client, merchant, fakes):
    now = int(time.time())
    post_webhook(client, _payload("second", timestamp=now))
    post_webhook(client, _payload("first", timestamp=now - 5))
    fakes["graph"].wait_for_sent(1, timeout=20)
    assert fakes["gemini"].user_texts(fakes["gemini"].requests[0])[-1] == "first\nsecond"
    ledger(fakes["graph"], expect_inbound=2)


# 3. the API killed after storing, before answering ------------------------------------


def test_the_api_killed_after_storing_is_retried_as_a_no_op(
    workers, api, merchant, fakes, tmp_path
):
    api.start(FAILPOINTS=f"webhook.after_store=kill@{tmp_path / 'api-died'}")
    body = json.dumps(_payload("are you open?")).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}
    with pytest.raises(httpx.HTTPError):  # no answer: WhatsApp will retry
        httpx.post(f"{api.url}/webhook", content=body, headers=headers, timeout=10)
    assert api.process.wait(timeout=10) == -signal.SIGKILL
    api.start()  # the next process (the marker says this failpoint already fired)
    retry = httpx.post(f"{api.url}/webhook", content=body, headers=headers, timeout=10)
    assert retry.json() == {"received": True}  # both rows are drained: one message
    fakes["graph"].wait_for_sent(1, timeout=30)  # the sweeper scheduled what the kill lost
    time.sleep(1)
    assert _replies(fakes["graph"]) == ["Echo: are you open?"]
    ledger(fakes["graph"], expect_inbound=1)


# 4. a worker child SIGKILLed mid-turn -------------------------------------------------


def test_a_drainer_killed_before_deleting_its_row_is_drained_again_as_a_no_op(
    workers, client, merchant, fakes, tmp_path
):
    workers.stop()
    workers.start(FAILPOINTS=f"ingest.drain.before_delete=kill@{tmp_path / 'drainer-died'}")
    assert post_webhook(client, _payload("is it in stock?"), drain=False).status_code == 200
    eventually(lambda: (tmp_path / "drainer-died").exists(), timeout=30)
    fakes["graph"].wait_for_sent(1, timeout=40)  # the row, still there, drained again
    eventually(lambda: _inbox_empty(), timeout=20)
    time.sleep(1.5)
    assert _replies(fakes["graph"]) == ["Echo: is it in stock?"]
    ledger(fakes["graph"], expect_inbound=1)


def _inbox_empty() -> bool:
    from persistence.models import WebhookInbox

    with session_scope() as session:
        return session.scalars(select(WebhookInbox.id)).first() is None


def test_a_worker_child_killed_mid_turn_is_redone_once(workers, client, merchant, fakes):
    gemini = fakes["gemini"]
    gemini.delay = 3
    post_webhook(client, _payload("slow one"))
    gemini.wait_for_requests(1, timeout=20)
    gemini.delay = 0
    assert kill_pool_children(workers) >= 1
    fakes["graph"].wait_for_sent(1, timeout=40)
    time.sleep(1.5)
    assert _replies(fakes["graph"]) == ["Echo: slow one"]
    result = ledger(fakes["graph"], expect_inbound=1)
    assert [t.attempts for t in result["turns"]] == [2]  # the same turn, redone


# 5. a worker stopped (SIGTERM) mid-turn, as in a rolling deploy -------------------------


def test_a_rolling_restart_mid_turn_finishes_the_turn_once(workers, client, merchant, fakes):
    gemini = fakes["gemini"]
    gemini.delay = 2
    post_webhook(client, _payload("deploying?"))
    gemini.wait_for_requests(1, timeout=20)
    worker = workers.processes[0]
    worker.send_signal(signal.SIGTERM)  # warm shutdown: the running turn completes
    assert worker.wait(timeout=30) == 0
    gemini.delay = 0
    workers.stop()
    workers.start()  # the new version
    post_webhook(client, _payload("after the deploy"))
    eventually(lambda: len(_replies(fakes["graph"])) == 2, timeout=30)
    time.sleep(1)
    assert _replies(fakes["graph"]) == ["Echo: deploying?", "Echo: after the deploy"]
    ledger(fakes["graph"], expect_inbound=2)


# 6. sent at the Graph API, the worker died before recording it --------------------------


def test_a_send_whose_worker_died_is_reconciled_not_resent(
    workers, client, merchant, fakes, tmp_path
):
    workers.discard()  # fresh and idle: no warm shutdown to wait for
    workers.start(FAILPOINTS=f"delivery.after_send=kill@{tmp_path / 'worker-died'}")
    post_webhook(client, _payload("hi"))
    (sent,) = fakes["graph"].wait_for_sent(1, timeout=20)
    # WhatsApp's status webhook for that send arrives within seconds, naming our callback data
    status = status_payload(
        wamid=sent["_wamid"], status="sent", callback_data=sent["biz_opaque_callback_data"],
        recipient_id=DEFAULT_WA_ID, phone_number_id=PHONE_NUMBER_ID,
    )  # fmt: skip
    post_webhook(client, status)
    # the redone turn finds its reply in flight, sees the status: it is not sent again
    result = eventually(lambda: ledger(fakes["graph"], expect_inbound=1), timeout=30)
    assert [t.outcome for t in result["turns"]] == ["replied"]
    with session_scope() as session:
        reply = session.scalars(select(Message).where(Message.direction == "out")).one()
        assert reply.status == "sent" and reply.wamid == sent["_wamid"]
    time.sleep(2)  # (the sweeper runs every second here)
    assert len(fakes["graph"].sent) == 1


def test_a_reply_lost_in_flight_is_resent_before_the_next_turn(
    workers, client, merchant, fakes, tmp_path
):
    """Found by the fault soak: the worker died between claiming a reply and sending it;
    the redone turn finished without it, later turns answered, and the reconciler sent the
    old reply last. Now the redone turn resends it (no status came) before letting go."""
    workers.discard()  # fresh and idle: no warm shutdown to wait for
    workers.start(
        FAILPOINTS=f"delivery.before_send=kill@{tmp_path / 'worker-died'}",
        SEND_STATUS_GRACE_SECONDS="2",
    )  # fmt: skip
    post_webhook(client, _payload("first"))
    eventually(lambda: (tmp_path / "worker-died").exists(), timeout=20)
    post_webhook(client, _payload("second"))
    eventually(lambda: len(_replies(fakes["graph"])) == 2, timeout=40)
    time.sleep(1.5)
    assert _replies(fakes["graph"]) == ["Echo: first", "Echo: second"]
    ledger(fakes["graph"], expect_inbound=2)


# 7. Redis restarted (everything in it lost) while a burst waits -------------------------


def test_redis_restarted_inside_a_window_loses_nothing(workers, client, merchant, fakes):
    post_webhook(client, _payload("one"))
    post_webhook(client, _payload("two"))  # the burst is open, its flush task queued
    restart_redis(down_for=0.5)
    post_webhook(client, _payload("three"))
    # kombu can crash the worker when the broker vanishes while it holds unacknowledged
    # tasks; the worker then exits (tasks/signals.py ends a wedged shutdown) and systemd,
    # Kubernetes or run_server.py start it again, as this test does
    if _worker_exits_or_answers(workers, within=UNRECOVERABLE_EXIT_SECONDS + 10) == "exited":
        workers.stop()
        workers.start()
    eventually(lambda: _replies(fakes["graph"]), timeout=40)
    time.sleep(3)
    result = ledger(fakes["graph"], expect_inbound=3)
    assert len(result["replies"]) == len(_replies(fakes["graph"])) >= 1


def _worker_exits_or_answers(workers, *, within: float) -> str:
    from tasks import app

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if workers.processes[0].poll() is not None:
            return "exited"
        try:
            if app.control.ping(timeout=0.5):
                return "answers"
        except Exception:
            time.sleep(0.2)
    raise AssertionError(f"the worker neither answers nor exits after {within} s")


def test_webhooks_while_redis_is_down_are_answered_when_it_is_back(
    workers, client, merchant, fakes
):
    stop_redis()
    try:
        for text in ("anyone there?", "hello?"):
            assert post_webhook(client, _payload(text)).status_code == 200  # PostgreSQL has it
    finally:
        restart_redis()
    # workers and beat reconnect with kombu's growing backoff, then the sweeper finds the two
    # stored messages: 40 s was not always enough on a busy 2-core machine
    eventually(lambda: _replies(fakes["graph"]), timeout=90)
    time.sleep(2)
    ledger(fakes["graph"], expect_inbound=2)


# 8. PostgreSQL restarted during a turn -------------------------------------------------


def test_postgresql_restarted_during_a_turn(workers, client, merchant, fakes):
    gemini = fakes["gemini"]
    gemini.delay = 2
    post_webhook(client, _payload("still there?"))
    gemini.wait_for_requests(1, timeout=20)
    pg_ctl("restart", "-m", "fast")
    gemini.delay = 0
    eventually(lambda: _replies(fakes["graph"]), timeout=60)
    time.sleep(2)
    assert _replies(fakes["graph"]) == ["Echo: still there?"]
    ledger(fakes["graph"], expect_inbound=1)
    # the checkpoint holds the turn once
    from tasks import runtime

    runtime.reset()
    state = runtime.conversation_graph().get_state(
        {"configurable": {"thread_id": str(_conversation().id)}}
    )
    humans = [m for m in state.values["messages"] if m.type == "human"]
    assert [m.text for m in humans] == ["still there?"]


# 10. the LLM ----------------------------------------------------------------------------


def test_llm_down_flags_a_person_and_tells_the_customer_once(workers, client, merchant, fakes):
    for name in ("gemini", "openai"):
        fakes[name].fail(503, times=50)
    post_webhook(client, _payload("help"))
    eventually(lambda: _replies(fakes["graph"]), timeout=40)
    assert len(fakes["gemini"].requests) == 2 and len(fakes["openai"].requests) == 2  # bounded
    post_webhook(client, _payload("hello??"))  # still down; a person has been asked
    time.sleep(3)
    assert _replies(fakes["graph"]) == [HOLDING_TEXT]
    assert _conversation().needs_human


def test_a_hanging_llm_times_out_falls_back_then_goes_to_a_person(workers, client, merchant, fakes):
    """Each provider hangs: every request is cut at LLM_TIMEOUT_SECONDS, retried once, then
    the fallback gets the same; then a person is asked and the customer told, once."""
    workers.discard()  # fresh and idle: no warm shutdown to wait for
    workers.start(LLM_TIMEOUT_SECONDS="1")
    for name in ("gemini", "openai"):
        fakes[name].hang(5, times=2)
    post_webhook(client, _payload("tell me everything"))
    eventually(lambda: _replies(fakes["graph"]), timeout=60)
    time.sleep(1)
    assert _replies(fakes["graph"]) == [HOLDING_TEXT]
    assert (len(fakes["gemini"].requests), len(fakes["openai"].requests)) == (2, 2)
    assert _conversation().needs_human
    ledger(fakes["graph"], expect_inbound=1)


def test_a_turn_that_keeps_killing_its_worker_goes_to_a_person(workers, client, merchant, fakes):
    """A turn redone MAX_TURN_ATTEMPTS times (its worker died each time: OOM, hard time
    limit) is not run again."""
    from persistence.models import Turn
    from services.turns.flows import MAX_TURN_ATTEMPTS

    gemini = fakes["gemini"]
    gemini.delay = 3
    post_webhook(client, _payload("a poisonous question"))
    for attempt in range(1, MAX_TURN_ATTEMPTS + 1):
        gemini.wait_for_requests(attempt, timeout=40)
        kill_pool_children(workers)
    eventually(lambda: _replies(fakes["graph"]), timeout=60)
    time.sleep(1)
    assert _replies(fakes["graph"]) == [HOLDING_TEXT]
    assert len(gemini.requests) == MAX_TURN_ATTEMPTS
    with session_scope() as session:
        (turn,) = session.scalars(select(Turn)).all()
    assert (turn.attempts, turn.outcome) == (MAX_TURN_ATTEMPTS + 1, "abandoned")
    assert "repeatedly" in _conversation().needs_human_reason


def test_a_model_calling_unknown_tools_forever_is_stopped(workers, client, merchant, fakes):
    for _ in range(30):
        fakes["gemini"].call_tool("delete_all_orders", {"confirm": True})
    post_webhook(client, _payload("do something"))
    eventually(lambda: _replies(fakes["graph"]), timeout=40)
    assert _replies(fakes["graph"]) == [HOLDING_TEXT]
    assert _conversation().needs_human


def test_a_malformed_tool_call_is_answered_after_the_model_retries(
    workers, client, merchant, fakes
):
    fakes["gemini"].call_tool("respond_with_media", {"caption": 42})  # no media_key
    fakes["gemini"].reply("Sorry, here is what I can tell you.")
    post_webhook(client, _payload("show me"))
    eventually(lambda: _replies(fakes["graph"]), timeout=30)
    assert _replies(fakes["graph"]) == ["Sorry, here is what I can tell you."]
    assert "media_key" in json.dumps(fakes["gemini"].requests[1])  # it was told what was wrong


# 11. the Graph API -------------------------------------------------------------------------


def test_a_rate_limited_send_backs_off_and_goes_out_once(workers, client, merchant, fakes):
    fakes["graph"].fail_next(code=130429)
    post_webhook(client, _payload("hi"))
    eventually(lambda: _replies(fakes["graph"]), timeout=30)
    assert _replies(fakes["graph"]) == ["Echo: hi"]
    ledger(fakes["graph"], expect_inbound=1)


def test_a_reply_refused_outside_the_window_waits_for_the_customer(
    workers, client, merchant, fakes
):
    fakes["graph"].fail_next(code=131047)
    post_webhook(client, _payload("hi"))

    def templates() -> list[dict]:
        return [s for s in fakes["graph"].sent if s.get("type") == "template"]

    assert eventually(templates, timeout=30)[0]["template"]["name"] == "switchboard_reengagement"
    assert _replies(fakes["graph"]) == [] and not _conversation().needs_human
    post_webhook(client, _payload("back"))
    eventually(lambda: len(_replies(fakes["graph"])) == 2, timeout=30)
    assert _replies(fakes["graph"]) == ["Echo: hi", "Echo: back"]
