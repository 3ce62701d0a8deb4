"""Turns, the outbox and the graph run in-process against the real databases and fakes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update

from channels.simulators.webhooks import status_payload
from channels.webhook import parse_notification
from persistence.checkpoint_serde import MESSAGES_TYPE
from persistence.db import autocommit_scope, get_engine, session_scope
from persistence.models import (
    Author,
    Conversation,
    ConversationMode,
    DeliveryStatus,
    Message,
    Turn,
    TurnResult,
)
from services.delivery import flows as outbox_flows
from services.delivery import outbox as delivery
from services.delivery.flows import apply_statuses
from services.handoff.handoff import HOLDING_TEXT
from services.outbound import add_outbound
from services.turns import flows as turns
from services.turns import opening
from tasks import runner, runtime
from tests.helpers import messages_in_db, store_text

pytestmark = pytest.mark.integration


def _set_mode(conversation_id: int, mode: ConversationMode) -> None:
    with session_scope() as session:
        session.execute(
            update(Conversation).where(Conversation.id == conversation_id).values(mode=mode)
        )


def test_two_turns_of_one_conversation_never_overlap(merchant):
    conversation_id = store_text(merchant, "hello")
    running = threading.Event()
    release = threading.Event()
    runs: list[int] = []

    def slow_graph(context):
        runs.append(context.turn_id)
        running.set()
        release.wait(5)
        return None, "no_reply"

    outcomes = []
    first = threading.Thread(
        target=lambda: outcomes.append(turns.run_turn(conversation_id, run_graph=slow_graph))
    )
    first.start()
    assert running.wait(5)
    second = turns.run_turn(conversation_id, run_graph=slow_graph)  # a duplicate flush
    release.set()
    first.join(5)
    assert second.status == "busy"
    assert len(runs) == 1


def test_a_crashed_turn_is_redone_with_the_same_burst(merchant):
    now = datetime.now(UTC)
    conversation_id = store_text(merchant, "first", written=now)

    def crash(context):
        raise RuntimeError("worker died")

    with pytest.raises(RuntimeError):
        turns.run_turn(conversation_id, run_graph=crash)
    store_text(merchant, "arrived after the crash", written=now + timedelta(seconds=100))
    seen: list[list[str]] = []

    def record(context):
        with session_scope() as session:
            from services.turns.input import inbound_of_turn

            seen.append([m.text for m in inbound_of_turn(session, context.turn_id)])
        return None, "no_reply"

    redo = turns.run_turn(conversation_id, run_graph=record)
    assert seen == [["first"]]
    with session_scope() as session:
        turn = session.get(Turn, redo.turn_id)
        assert turn.attempts == 2 and turn.finished_at is not None
    turns.run_turn(conversation_id, run_graph=record)
    assert seen[1] == ["arrived after the crash"]


def test_a_turn_is_finished_in_the_transaction_that_records_its_reply_sent(merchant, fakes):
    conversation_id = store_text(merchant, "hi")

    outcome = runner.run(conversation_id)

    with get_engine().connect() as conn:
        turn = conn.execute(
            text("SELECT xmin::text, outcome FROM turns WHERE id = :t"), {"t": outcome.turn_id}
        ).one()
        reply = conn.execute(
            text("SELECT xmin::text, status FROM messages WHERE turn_id = :t "
                 "AND direction = 'out'"), {"t": outcome.turn_id},
        ).one()  # fmt: skip
    assert outcome.status == "replied" and turn.outcome == "replied"
    assert reply.status == DeliveryStatus.ACCEPTED
    assert turn.xmin == reply.xmin  # one transaction: a turn is never left open once sent


def test_a_reply_dropped_by_a_takeover_still_finishes_its_turn(merchant, fakes, monkeypatch):
    conversation_id = store_text(merchant, "hi")
    write = turns.write_claimed_reply

    def taken_over_meanwhile(connection, **kwargs):  # type: ignore[no-untyped-def]
        _set_mode(conversation_id, ConversationMode.OPERATOR)
        return write(connection, **kwargs)

    monkeypatch.setattr(turns, "write_claimed_reply", taken_over_meanwhile)
    outcome = runner.run(conversation_id)

    with session_scope() as session:
        turn = session.get(Turn, outcome.turn_id)
        assert turn is not None and turn.finished_at is not None
        assert turn.outcome == "unsent"
        reply = session.scalar(select(Message).where(Message.turn_id == outcome.turn_id,
                                                     Message.direction == "out"))  # fmt: skip
        assert reply is not None and reply.status == DeliveryStatus.DROPPED
    assert fakes["graph"].sent == []


def _statements_of(run) -> tuple[object, list[str]]:
    """What `run()` returns, and the SQL statements it sent (BEGIN aside)."""
    from sqlalchemy import event

    sent: list[str] = []

    def record(conn, cursor, statement, *_):
        sent.append(statement)

    event.listen(get_engine(), "before_cursor_execute", record)
    try:
        return run(), sent
    finally:
        event.remove(get_engine(), "before_cursor_execute", record)


def test_a_new_turn_owns_the_waiting_burst_in_whatsapp_order(merchant):
    now = datetime.now(UTC)
    conversation_id = store_text(merchant, "second", written=now + timedelta(seconds=5))
    store_text(merchant, "first", written=now)
    with session_scope() as session:
        opened, sent = _statements_of(lambda: opening.open_turn(session, conversation_id))
        assert len(sent) == 1  # the usual turn: started and bound in one statement
        assert opened is not None
        row = session.get(Turn, opened.turn.id)
        assert row is not None and row.conversation_id == conversation_id
        assert (opened.turn.attempts, row.attempts) == (1, 1)
        assert opened.turn.started_at == row.started_at and row.finished_at is None
    assert [m.text for m in opened.inbound] == ["first", "second"]
    assert {m.turn_id for m in messages_in_db(direction="in")} == {opened.turn.id}


def test_only_a_new_turns_opening_commits_without_waiting_for_the_disk(merchant):
    """The usual turn's opening skips its WAL flush (the reply's claim flushes it); the
    setting is the transaction's, not the pooled connection's, and a redone turn's
    opening waits as any other commit does."""
    conversation_id = store_text(merchant, "hi")
    show = text("SHOW synchronous_commit")
    with session_scope() as session:
        assert session.scalar(show) == "on"
        assert opening.open_turn(session, conversation_id) is not None
        assert session.scalar(show) == "off"
    with session_scope() as session:
        assert session.scalar(show) == "on"
        assert opening.open_turn(session, conversation_id) is not None  # redone
        assert session.scalar(show) == "on"


def test_a_requested_reply_with_messages_waiting_takes_the_request_and_the_burst(merchant):
    conversation_id = store_text(merchant, "are you there?")
    with session_scope() as session:
        session.get(Conversation, conversation_id).reply_requested = True  # a handback
    with session_scope() as session:
        opened = opening.open_turn(session, conversation_id)
        assert opened is not None and [m.text for m in opened.inbound] == ["are you there?"]
        assert opened.turn.attempts == 1
    with session_scope() as session:
        assert session.get(Conversation, conversation_id).reply_requested is False
        assert opening.open_turn(session, conversation_id) is not None  # the open turn, redone


def test_a_burst_already_in_the_session_is_seen_bound_to_its_new_turn(merchant):
    """Both ways of binding a burst (the usual one statement, and after a requested reply)
    leave the session's own copies of its messages bound, not as they were read before."""
    for requested in (False, True):
        conversation_id = store_text(merchant, f"requested: {requested}")
        with session_scope() as session:
            session.get(Conversation, conversation_id).reply_requested = requested
        with session_scope() as session:
            waiting = session.scalars(
                select(Message).where(
                    Message.conversation_id == conversation_id, Message.turn_id.is_(None)
                )
            ).one()
            opened = opening.open_turn(session, conversation_id)
            assert opened is not None and opened.inbound == [waiting]
            assert waiting.turn_id == opened.turn.id
            turns.finish_turn(session, opened.turn.id, "replied")


def test_with_a_turn_open_new_messages_wait_for_the_next_one(merchant):
    conversation_id = store_text(merchant, "first")
    with session_scope() as session:
        first = opening.open_turn(session, conversation_id)
        assert first is not None
    store_text(merchant, "second")
    with session_scope() as session:
        again = opening.open_turn(session, conversation_id)
        assert again is not None and again.turn.id == first.turn.id
        assert [m.text for m in again.inbound] == ["first"] and again.turn.attempts == 2
    assert {m.text: m.turn_id for m in messages_in_db(direction="in")} == {
        "first": first.turn.id,
        "second": None,
    }


def test_a_burst_set_aside_before_it_is_bound_leaves_the_new_turn_without_it(merchant, monkeypatch):
    from services.ingest.aside import set_aside

    conversation_id = store_text(merchant, "hi")
    (message,) = messages_in_db(direction="in")
    with session_scope() as session:  # between the turn's read (still waiting) and its bind
        aside = set_aside(session, conversation_id=conversation_id, message_ids=[message.id],
                          outcome=TurnResult.STALE)  # fmt: skip
    monkeypatch.setattr(opening, "_open_turn_and_waiting", lambda *_: (None, True, False))
    with session_scope() as session:
        opened = opening.open_turn(session, conversation_id)
        assert opened is not None and opened.inbound == [] and opened.turn.id != aside
        assert session.get(Turn, opened.turn.id).finished_at is None


def test_a_redone_turn_never_sends_its_reply_twice(merchant, fakes):
    conversation_id = store_text(merchant, "hi")
    with session_scope() as session:
        turn = opening.open_turn(session, conversation_id).turn
        turn_id = turn.id
    for _ in range(2):  # the same turn delivering twice (e.g. redelivered task)
        with session_scope() as session:
            ids = delivery.enqueue_reply(
                session, conversation_id=conversation_id, turn_id=turn_id, text="Hello!"
            )
        for message_id in ids:
            outbox_flows.send_pending(message_id, only_in_ai_mode=True)
    assert len(fakes["graph"].sent) == 1
    assert len(messages_in_db(direction="out")) == 1


def _write_claimed(conversation_id: int, turn_id: int, text: str) -> int | None:
    with autocommit_scope() as connection:
        return delivery.write_claimed_reply(
            connection, conversation_id=conversation_id, turn_id=turn_id, text=text,
            author=Author.AI,
        )  # fmt: skip


def test_the_usual_reply_is_written_claimed_and_its_redo_finds_it_in_flight(merchant, fakes):
    conversation_id = store_text(merchant, "hi")
    with session_scope() as session:
        turn_id = opening.open_turn(session, conversation_id).turn.id
    # the turn killed after its write, then redone
    first, redo = (_write_claimed(conversation_id, turn_id, "Hello!") for _ in range(2))
    assert first is not None
    assert redo is None  # in flight: reconciled (_settle), never claimed again
    with session_scope() as session:
        parts = delivery.write_reply(
            session, conversation_id=conversation_id, turn_id=turn_id, text="Hello!"
        )
    assert parts == [(first, DeliveryStatus.SENDING)]  # found, not written again
    (message,) = messages_in_db(direction="out")
    assert message.send_attempts == 1 and message.seq == 0 and message.text == "Hello!"


def test_the_usual_reply_is_committed_claimed_before_its_send(merchant, fakes, monkeypatch):
    conversation_id = store_text(merchant, "hi")
    seen = []

    def send(message_id, **kwargs):  # type: ignore[no-untyped-def]
        with get_engine().connect() as conn:  # another connection: only what is committed
            seen.append(conn.execute(text("SELECT status, send_attempts FROM messages "
                                          "WHERE id = :m"), {"m": message_id}).one())  # fmt: skip
        return DeliveryStatus.ACCEPTED

    monkeypatch.setattr(turns, "send_claimed", send)
    runner.run(conversation_id)

    assert [tuple(row) for row in seen] == [(DeliveryStatus.SENDING, 1)]


def test_a_reply_of_several_parts_is_not_written_claimed(merchant, fakes):
    conversation_id = store_text(merchant, "hi")
    with session_scope() as session:
        turn_id = opening.open_turn(session, conversation_id).turn.id
    # several parts: written pending, the caller claims as before
    assert _write_claimed(conversation_id, turn_id, "word " * 2000) is None
    assert messages_in_db(direction="out") == []


def test_a_reply_after_the_turns_offer_is_written_pending_behind_it(merchant, fakes):
    conversation_id = store_text(merchant, "hi")
    with session_scope() as session:
        turn_id = opening.open_turn(session, conversation_id).turn.id
        offer = add_outbound(
            session,
            conversation_id=conversation_id,
            author=Author.AI,
            type="interactive",
            text="Pick one",
            turn_id=turn_id,
            seq=2000,
        ).id
    # the turn has an outbound row: not the usual reply
    assert _write_claimed(conversation_id, turn_id, "Hello!") is None
    with session_scope() as session:
        parts = delivery.write_reply(
            session, conversation_id=conversation_id, turn_id=turn_id, text="Hello!"
        )
    ((reply, status), offered) = parts
    assert status == DeliveryStatus.PENDING and offered == (offer, DeliveryStatus.PENDING)


def test_a_takeover_before_the_send_drops_the_ai_reply(merchant, fakes):
    conversation_id = store_text(merchant, "hi")
    with session_scope() as session:
        turn_id = opening.open_turn(session, conversation_id).turn.id
        (message_id,) = delivery.enqueue_reply(
            session, conversation_id=conversation_id, turn_id=turn_id, text="AI reply"
        )
    _set_mode(conversation_id, ConversationMode.OPERATOR)
    assert outbox_flows.send_pending(message_id, only_in_ai_mode=True) == DeliveryStatus.DROPPED
    assert fakes["graph"].sent == []


def _outbound(merchant: dict, text_body: str = "reply") -> int:
    conversation_id = store_text(merchant, "hi")
    with session_scope() as session:
        turn_id = opening.open_turn(session, conversation_id).turn.id
        (message_id,) = delivery.enqueue_reply(
            session, conversation_id=conversation_id, turn_id=turn_id, text=text_body
        )
    return message_id


def test_a_send_with_unknown_outcome_is_reconciled_from_the_status_webhook(merchant, fakes):
    message_id = _outbound(merchant)
    fakes["graph"].accept_then_drop_next()  # Meta got it, we never heard back
    assert outbox_flows.send_pending(message_id, only_in_ai_mode=True) == DeliveryStatus.UNKNOWN
    (sent,) = fakes["graph"].sent
    assert sent["biz_opaque_callback_data"] == f"sb:{message_id}"
    payload = status_payload(
        phone_number_id=merchant["phone_number_id"],
        wamid=sent["_wamid"],
        status="sent",
        callback_data=f"sb:{message_id}",
    )
    apply_statuses(list(parse_notification(payload).statuses))
    (message,) = messages_in_db(direction="out")
    assert message.status == DeliveryStatus.SENT and message.wamid == sent["_wamid"]
    assert outbox_flows.reconcile(message_id) == DeliveryStatus.SENT  # nothing to resend
    assert len(fakes["graph"].sent) == 1


def test_a_send_that_never_got_a_status_is_resent_once_by_the_reconciler(merchant, fakes):
    message_id = _outbound(merchant)
    fakes["graph"].accept_then_drop_next()
    outbox_flows.send_pending(message_id, only_in_ai_mode=True)
    later = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)
    with session_scope() as session:
        assert delivery.unresolved_sends(session, older_than=later) == [message_id]
    assert outbox_flows.reconcile(message_id) == DeliveryStatus.ACCEPTED
    assert outbox_flows.reconcile(message_id) == DeliveryStatus.ACCEPTED  # settled: no third send
    assert len(fakes["graph"].sent) == 2


def test_outside_the_service_window_the_send_fails_with_its_code(merchant, fakes):
    message_id = _outbound(merchant)
    fakes["graph"].fail_next(code=131047)
    assert outbox_flows.send_pending(message_id, only_in_ai_mode=True) == DeliveryStatus.FAILED
    (message,) = messages_in_db(direction="out")
    assert message.error_code == 131047 and "131047" in message.error_detail


def test_without_an_llm_key_the_conversation_is_flagged_for_a_human(merchant, fakes, monkeypatch):
    monkeypatch.setattr(runtime, "agent_model", lambda *toolset: None)
    conversation_id = store_text(merchant, "hello?")
    outcome = runner.run(conversation_id)
    assert outcome.status == "needs_human"
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation.needs_human
    assert fakes["gemini"].requests == []
    assert [s["text"]["body"] for s in fakes["graph"].sent] == [HOLDING_TEXT]
    store_text(merchant, "anyone?")
    assert runner.run(conversation_id).status == "silent"  # a person has it now
    assert len(fakes["graph"].sent) == 1


def test_checkpoints_stay_one_per_conversation(merchant, fakes):
    conversation_id = store_text(merchant, "one")
    for text_body in ("two", "three", "four"):
        runner.run(conversation_id)
        store_text(merchant, text_body)
    runner.run(conversation_id)
    thread = {"t": str(conversation_id)}
    with get_engine().connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM checkpoints WHERE thread_id = :t"), thread
        ).scalar()
        # one version of each channel (the messages changed every turn), no older writes
        versions = conn.execute(
            text("SELECT channel, count(*) FROM checkpoint_blobs WHERE thread_id = :t "
                 "GROUP BY channel"), thread,
        ).all()  # fmt: skip
        stored_as = conn.execute(
            text("SELECT type FROM checkpoint_blobs WHERE thread_id = :t "
                 "AND channel = 'messages'"), thread,
        ).scalar()  # fmt: skip
        writes = conn.execute(
            text("SELECT count(*) FROM checkpoint_writes w WHERE w.thread_id = :t AND "
                 "w.checkpoint_id NOT IN (SELECT checkpoint_id FROM checkpoints c "
                 "WHERE c.thread_id = :t)"), thread,
        ).scalar()  # fmt: skip
    assert count == 1
    assert "messages" in dict(versions) and all(n == 1 for _, n in versions)
    assert stored_as == MESSAGES_TYPE  # the history read back into the prompts below
    assert writes == 0
    assert len(fakes["gemini"].requests) == 4
    last = fakes["gemini"].requests[-1]
    words = ("one", "two", "three", "four")
    assert [t for t in fakes["gemini"].user_texts(last) if t in words] == list(words)


def test_operator_mode_records_silently(merchant, fakes):
    conversation_id = store_text(merchant, "is anyone there?")
    _set_mode(conversation_id, ConversationMode.OPERATOR)
    outcome = runner.run(conversation_id)
    assert outcome.status == "silent"
    assert (
        fakes["gemini"].requests == [] and fakes["graph"].sent == [] and fakes["graph"].reads == []
    )
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Turn)) == 1


def test_the_prompt_stays_within_its_token_budget(merchant, fakes):
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_core.messages.utils import count_tokens_approximately

    from graph.nodes.agent import budgeted_history

    history = []
    for i in range(500):
        history += [
            HumanMessage(f"question {i} " * 20, id=f"h{i}"),
            AIMessage(f"answer {i} " * 20, id=f"a{i}"),
        ]
    kept = budgeted_history(history, 2000)
    assert count_tokens_approximately(kept) <= 2000
    assert kept[0].type == "human" and kept[-1].id == "a499"


def test_a_handback_during_a_turn_that_then_answers_gives_no_second_reply(merchant, fakes):
    """Found by the browser test: a turn started in operator mode, the operator handed back
    before it routed (so it answered), and the handback's requested reply ran again."""
    from services.access.auth import Principal
    from services.handoff.handoff import ConversationRef, handback

    conversation_id = store_text(merchant, "size 42 please")
    _set_mode(conversation_id, ConversationMode.OPERATOR)
    with session_scope() as session:
        turn_id = opening.open_turn(session, conversation_id).turn.id  # the running turn
    with session_scope() as session:
        _, answer_now = handback(
            session, ConversationRef(conversation_id), Principal(None, "olga", True), note="42"
        )
    assert answer_now  # the customer was waiting when the operator handed back
    with session_scope() as session:  # ...and the running turn, now in AI mode, answered
        delivery.enqueue_reply(
            session, conversation_id=conversation_id, turn_id=turn_id, text="In stock!"
        )
        turns._finish(turn_id, "replied")
    with session_scope() as session:
        assert opening.open_turn(session, conversation_id) is None


def test_a_requested_reply_runs_when_a_note_came_after_the_last_answer(merchant, fakes):
    """A staff answer to relay is a note after the AI's last reply: the turn runs."""
    from services.handoff.handoff import add_note

    conversation_id = store_text(merchant, "do you ship to Canada?")
    with session_scope() as session:
        turn_id = opening.open_turn(session, conversation_id).turn.id
        delivery.enqueue_reply(
            session, conversation_id=conversation_id, turn_id=turn_id, text="I asked the team."
        )
        turns._finish(turn_id, "replied")
    with session_scope() as session:
        add_note(session, conversation_id, "The team answered: yes, in 5 days.")
        session.get(Conversation, conversation_id).reply_requested = True
    with session_scope() as session:
        assert opening.open_turn(session, conversation_id) is not None


def test_a_markdown_reply_goes_out_in_whatsapp_formatting(merchant, fakes):
    conversation_id = store_text(merchant, "do you have size 42?")
    fakes["gemini"].reply("## Size 42\n\n* **Trail X**: [details](https://shop.example/t_x)")
    assert runner.run(conversation_id).status == "replied"
    (sent,) = fakes["graph"].sent
    assert sent["text"]["body"] == "*Size 42*\n\n- *Trail X*: details (https://shop.example/t_x)"
    (stored,) = messages_in_db(direction="out")
    assert stored.text == sent["text"]["body"]


@pytest.fixture
def short_turn_deadline(monkeypatch):
    from settings import get_settings

    monkeypatch.setenv("TURN_DEADLINE_SECONDS", "3")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_hanging_provider_gives_up_at_the_turn_deadline_with_the_holding_message(
    merchant, fakes, short_turn_deadline
):
    fakes["gemini"].hang(6)
    fakes["openai"].hang(6)
    conversation_id = store_text(merchant, "hello?")
    outcome = runner.run(conversation_id)
    assert outcome.status == "needs_human"
    assert [s["text"]["body"] for s in fakes["graph"].sent] == [HOLDING_TEXT]
    with session_scope() as session:
        assert session.get(Conversation, conversation_id).needs_human
    # Gemini's attempt was cut where the fallback's share begins, and nothing was retried
    # (whether OpenAI's share was long enough to ask it depends on how fast the turn set up)
    assert len(fakes["gemini"].requests) == 1
    assert len(fakes["openai"].requests) <= 1


def _replies_over_budget() -> float:
    from prometheus_client.parser import text_string_to_metric_families

    from observability.metrics import exposition

    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition().decode())
        for sample in family.samples
        if sample.name == "switchboard_replies_over_budget_total"
        and sample.labels.get("role") == "customer"
    )


def test_a_reply_over_the_budget_is_counted_and_sent_whole(merchant, fakes):
    before = _replies_over_budget()
    long_answer = "Our return policy in detail. " * 40  # about 1,200 characters
    fakes["gemini"].reply(long_answer).reply("Yes, we do.")
    first = store_text(merchant, "how do returns work?")
    assert runner.run(first).status == "replied"
    store_text(merchant, "and exchanges?")
    assert runner.run(first).status == "replied"
    bodies = [s["text"]["body"] for s in fakes["graph"].sent]
    assert bodies == [long_answer.strip(), "Yes, we do."]  # one message, not cut
    assert _replies_over_budget() == before + 1


def test_a_turn_reads_the_open_questions_and_the_media_library_with_its_start(merchant):
    """The questions the team has not answered (oldest first, with when they were asked)
    and the merchant's own media files reach the turn, read in the turn's first SELECT."""
    from persistence.models import MediaAsset, Merchant, Notification, NotificationStatus
    from services.notifications.kinds import NotificationType

    conversation_id = store_text(merchant, "any news on my questions?")
    monday = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    requested = NotificationStatus.REQUESTED
    with session_scope() as session:
        other = Merchant(name="Other shop")
        session.add(other)
        session.flush()

        def question(text: str, at: datetime, status: NotificationStatus) -> Notification:
            return Notification(
                merchant_id=merchant["id"], conversation_id=conversation_id,
                type=NotificationType.USER_QUESTION_REQUEST.value, status=status,
                context={"question": text}, answer_schema={}, created_at=at,
            )  # fmt: skip

        def asset(merchant_id: int, key: str, kind: str, caption: str) -> MediaAsset:
            return MediaAsset(
                merchant_id=merchant_id, key=key, kind=kind, caption=caption, filename=key,
                mime_type="image/jpeg", size=1, sha256="0" * 64, storage_key=key,
            )  # fmt: skip

        session.add_all([
            question("Is the red one in 42?", monday, requested),
            question("Do you ship to Chile?", monday + timedelta(hours=2), requested),
            question("Gift wrap?", monday, NotificationStatus.ANSWERED),
            asset(merchant["id"], "size-chart", "image", "Sizes"),
            asset(merchant["id"], "catalog", "document", ""),
            asset(other.id, "their-secret", "image", "not ours"),
        ])  # fmt: skip
        turn = opening.open_turn(session, conversation_id).turn
        context = turns.turn_context(session, conversation_id, turn.id)

    assert context.pending_questions == (
        '"Is the red one in 42?" (asked Monday 09:15)',
        '"Do you ship to Chile?" (asked Monday 11:15)',
    )
    assert context.media_library == (("catalog", "document", ""), ("size-chart", "image", "Sizes"))
