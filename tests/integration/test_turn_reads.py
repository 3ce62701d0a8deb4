"""A turn's reads stay the same size however long its conversation: each reaches the
conversation's messages through an index (migration 0028), never by walking all of them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from psycopg import sql as pg_sql
from sqlalchemy import event, text

from persistence.db import get_engine, session_scope
from persistence.models import Author, DeliveryStatus, Direction, Message, Turn
from tests.factories import make_conversation, make_message
from tests.helpers import store_text

pytestmark = pytest.mark.integration

HISTORY = 3000  # messages before the turn's burst


@pytest.fixture
def long_conversation(merchant: dict) -> dict[str, int]:
    """A conversation of HISTORY messages (customer and AI by turns, one operator note),
    then a turn with one inbound message; statistics up to date, as autovacuum keeps them."""
    with session_scope() as session:
        conversation = make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"]
        )
        make_message(session, conversation_id=conversation.id, direction=Direction.NOTE,
                     author=Author.OPERATOR, text="Refund approved")  # fmt: skip
        session.execute(
            text(
                "INSERT INTO messages (conversation_id, direction, author, type, text, status, "
                "send_attempts, wa_timestamp) "
                "SELECT :c, CASE WHEN i % 2 = 0 THEN 'in' ELSE 'out' END, "
                "CASE WHEN i % 2 = 0 THEN 'customer' ELSE 'ai' END, 'text', 'message ' || i, "
                "CASE WHEN i % 2 = 0 THEN 'received' ELSE 'read' END, 0, "
                "now() - interval '1 day' + i * interval '1 second' "
                "FROM generate_series(1, :n) AS i"
            ),
            {"c": conversation.id, "n": HISTORY},
        )
        turn = Turn(conversation_id=conversation.id, attempts=1)
        session.add(turn)
        session.flush()
        burst = make_message(
            session, conversation_id=conversation.id, direction=Direction.INBOUND,
            author=Author.CUSTOMER, status=DeliveryStatus.RECEIVED, turn_id=turn.id,
            text="Where is my parcel?",
        )  # fmt: skip
        ids = {"conversation": conversation.id, "turn": turn.id, "burst": burst.id}
    with session_scope() as session:
        session.execute(text("ANALYZE messages"))
    return ids


def _messages_read(statement: Any, params: dict[str, Any], *, generic: bool = False) -> int:
    """Rows of `messages` PostgreSQL looked at to run `statement`: those it returned from
    each scan and those it read and filtered out. `generic`: as a prepared statement run
    with its generic plan, made for any parameters, as psycopg's prepared statements are
    run once PostgreSQL prefers that plan."""
    with get_engine().connect() as connection:  # rolled back: a statement may write
        if generic:
            expanded = statement.params(**params).compile(connection).construct_expanded_state()
            return _generic_messages_read(connection, expanded.statement, expanded.parameters)
        compiled = statement.params(**params).compile(
            connection, compile_kwargs={"literal_binds": True}
        )
        plan = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}")
        return _rows_of_messages(plan.scalar_one())


def _generic_messages_read(connection: Any, sql: str, parameters: dict[str, Any]) -> int:
    """_messages_read of a statement as the driver sends it (`%(name)s` parameters),
    prepared to be planned generically and run with its values."""
    names: list[str] = []

    def numbered(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    prepared = re.sub(r"%\((\w+)\)s", numbered, sql)
    raw = connection.connection.dbapi_connection
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    connection.exec_driver_sql(f"PREPARE generic AS {prepared}".replace("%%", "%"))
    values = ", ".join(pg_sql.Literal(parameters[name]).as_string(raw) for name in names)
    explain = f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE generic({values})".replace("%", "%%")
    try:
        return _rows_of_messages(connection.exec_driver_sql(explain).scalar_one())
    finally:  # a prepared statement outlives the transaction, on a pooled connection
        connection.exec_driver_sql("DEALLOCATE generic")


def _rows_of_messages(plan: Any) -> int:
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def walk(node: dict[str, Any]) -> int:
        own = 0
        if node.get("Relation Name") == "messages":
            loops = node.get("Actual Loops", 1)
            own = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * loops
        return int(own) + sum(walk(child) for child in node.get("Plans", []))

    return walk(plan[0]["Plan"])


def test_the_graphs_read_of_a_turn_reaches_its_burst_notes_and_the_message_before(
    long_conversation,
):
    from services.turns.input import _turn_input_statement, turn_input

    conversation, turn = long_conversation["conversation"], long_conversation["turn"]
    with session_scope() as session:
        read = turn_input(session, conversation_id=conversation, turn_id=turn, after_note_id=0)
        assert read is not None
        assert [m.id for m in read.inbound] == [long_conversation["burst"]]
        assert [m.text for m in read.notes] == ["Refund approved"]
        last = session.scalar(
            text("SELECT max(wa_timestamp) FROM messages WHERE conversation_id = :c AND id < :b"),
            {"c": conversation, "b": long_conversation["burst"]},
        )
        assert read.previous_at == last
    params = {"conversation_id": conversation, "turn_id": turn, "after_id": 0}
    assert _messages_read(_turn_input_statement(), params) < 20  # of 3,002
    assert _messages_read(_turn_input_statement(), params, generic=True) < 20


def test_the_turns_start_finds_no_released_message_in_flight_without_walking_the_history(
    long_conversation,
):
    from services.turns.start import _start_statement, read_turn_start

    params = {"conversation_id": long_conversation["conversation"],
              "turn_id": long_conversation["turn"]}  # fmt: skip
    with session_scope() as session:
        assert read_turn_start(session, **params).releasing is False
    bound = {**params, "checkpoint_thread": str(params["conversation_id"])}
    assert _messages_read(_start_statement(), bound) < 20
    assert _messages_read(_start_statement(), bound, generic=True) < 20


def test_a_new_turn_finds_and_binds_its_waiting_messages_without_walking_the_history(
    long_conversation,
):
    from services.turns.opening import _open_turn_statement, _start_when_waiting_statement

    conversation = long_conversation["conversation"]
    with session_scope() as session:
        # the history's turns are over: each of its messages was some turn's
        session.execute(text("UPDATE turns SET finished_at = now()"))
        session.execute(
            text("UPDATE messages SET turn_id = :t WHERE direction <> 'note' AND turn_id IS NULL"),
            {"t": long_conversation["turn"]},
        )
        make_message(
            session, conversation_id=conversation, direction=Direction.INBOUND,
            author=Author.CUSTOMER, status=DeliveryStatus.RECEIVED, text="Hello?",
        )  # fmt: skip
    with session_scope() as session:
        session.execute(text("ANALYZE messages"))
    for generic in (False, True):
        opened = _messages_read(_start_when_waiting_statement(), {"conversation": conversation},
                                generic=generic)  # fmt: skip
        assert opened < 20
        found = _messages_read(_open_turn_statement(), {"conversation_id": conversation},
                               generic=generic)  # fmt: skip
        assert found < 20


def test_the_sweepers_reads_skip_an_answered_history_as_prepared_statements(
    long_conversation,
):
    """The sweeper runs every second on one connection: psycopg prepares its statements,
    and PostgreSQL may then run them with a generic plan. Its reads still reach only the
    messages waiting (ix_messages_pending_inbound, ix_messages_unresolved_outbound)."""
    from services.delivery.outbox import unresolved_sends
    from services.turns.opening import conversations_needing_turns

    with session_scope() as session:
        # the history's turns are over, its replies delivered
        session.execute(text("UPDATE turns SET finished_at = now()"))
        session.execute(
            text("UPDATE messages SET turn_id = :t WHERE direction <> 'note' AND turn_id IS NULL"),
            {"t": long_conversation["turn"]},
        )
    with session_scope() as session:
        session.execute(text("ANALYZE messages"))
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "messages" in statement:
            sent.append((statement, dict(parameters or {})))

    later = datetime.now(UTC) + timedelta(minutes=5)
    event.listen(get_engine(), "before_cursor_execute", record)
    try:
        with session_scope() as session:
            assert conversations_needing_turns(session, older_than=later) == []
            assert unresolved_sends(session, older_than=later) == []
    finally:
        event.remove(get_engine(), "before_cursor_execute", record)
    assert len(sent) == 2
    for statement, parameters in sent:
        with get_engine().connect() as connection:
            assert _generic_messages_read(connection, statement, parameters) < 20, statement


def test_a_released_message_in_flight_is_found(long_conversation):
    from services.turns.start import read_turn_start

    with session_scope() as session:
        released = session.get(Message, long_conversation["burst"] - 1)
        assert released is not None
        released.status = "sending"
        released.raw = {"parked_at": "2026-12-01T10:00:00+00:00"}
    with session_scope() as session:
        assert read_turn_start(session, long_conversation["conversation"]).releasing is True


def _recorded(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> list[Any]:
    """The arguments of each call of `cls.name` (the keywords, else the first argument),
    which still runs."""
    calls: list[Any] = []
    method = getattr(cls, name)

    def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs or args[0])
        return method(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, recorded)
    return calls


@pytest.fixture
def graph_reads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, int]]:
    """Each time the graph's load step read the turn itself (GraphServices.read_turn)."""
    from services.turns.graph_services import GraphServices

    return _recorded(monkeypatch, GraphServices, "read_turn")


def test_a_usual_turn_reads_its_input_with_its_start_and_a_note_reaches_the_model(
    merchant, fakes, graph_reads
):
    from services.turns.start import read_turn_start
    from tasks import runner

    conversation_id = store_text(merchant, "Hi, where is my order #4411?")
    assert runner.run(conversation_id).status == "replied"
    with session_scope() as session:
        note = make_message(
            session, conversation_id=conversation_id, direction=Direction.NOTE,
            author=Author.SYSTEM, text="Order #4411 left the warehouse today",
        )  # fmt: skip
        note_id = note.id
    store_text(merchant, "Any news?")
    assert runner.run(conversation_id).status == "replied"
    assert graph_reads == []  # both turns' input came with their start
    gemini = fakes["gemini"]
    assert "Order #4411 left the warehouse today" in gemini.system_text(gemini.requests[-1])
    assert any("Any news?" in text for text in gemini.user_texts(gemini.requests[-1]))
    with session_scope() as session:  # the checkpoint's watermark, as the next start reads it
        start = read_turn_start(session, conversation_id)
        assert start.notes_after == note_id and start.note_ids == ()


def test_a_turn_with_media_to_prepare_reads_its_input_in_the_graph(
    merchant, fakes, graph_reads, monkeypatch
):
    from services.turns import flows
    from tasks import runner

    monkeypatch.setattr(flows, "needs_preparing", lambda burst: True)  # as for a voice note
    conversation_id = store_text(merchant, "Hello")
    assert runner.run(conversation_id).status == "replied"
    assert len(graph_reads) == 1  # read after the media were prepared, not before


def test_the_start_reads_its_own_conversations_watermark_notes_and_message_before(
    long_conversation, merchant
):
    """Another conversation's later message and checkpoint change nothing of this one's."""
    from datetime import UTC, datetime, timedelta

    from services.turns.input import turn_input
    from services.turns.start import read_turn_start

    conversation, turn = long_conversation["conversation"], long_conversation["turn"]
    with session_scope() as session:
        other = make_conversation(session, merchant_id=merchant["id"],
                                  phone_id=merchant["phone_id"], wa_id="15550000002")  # fmt: skip
        make_message(
            session, conversation_id=other.id, direction=Direction.INBOUND,
            author=Author.CUSTOMER, status=DeliveryStatus.RECEIVED, text="elsewhere",
            wa_timestamp=datetime.now(UTC) - timedelta(minutes=1),
        )  # fmt: skip
        session.execute(
            text("INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, checkpoint) "
                 "VALUES (:thread, '', '1', CAST(:checkpoint AS jsonb))"),
            {"thread": str(other.id),
             "checkpoint": json.dumps({"channel_values": {"last_note_id": 999}})},
        )  # fmt: skip
        note_id = session.scalar(
            text("SELECT id FROM messages WHERE conversation_id = :c AND direction = 'note'"),
            {"c": conversation},
        )
    with session_scope() as session:
        start = read_turn_start(session, conversation, turn)
        read = turn_input(session, conversation_id=conversation, turn_id=turn, after_note_id=0)
        assert read is not None
    assert start.notes_after == 0 and start.note_ids == (note_id,)
    assert start.checkpoint is not None and start.checkpoint.row is None  # not the other's
    assert start.previous_at == read.previous_at
    assert start.previous_at is not None and start.previous_at < datetime.now(UTC) - timedelta(
        hours=12
    )  # this conversation's last message, a day ago: not the other's, a minute ago


@pytest.fixture
def checkpoint_reads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The config of each read of a checkpoint from the database (PostgresSaver's own)."""
    from langgraph.checkpoint.postgres import PostgresSaver

    return _recorded(monkeypatch, PostgresSaver, "get_tuple")


def _threads(configs: list[dict[str, Any]]) -> list[str]:
    return [config["configurable"]["thread_id"] for config in configs]


def test_a_turns_graph_takes_its_checkpoint_from_the_turns_start(merchant, fakes, checkpoint_reads):
    from tasks import runner, runtime

    conversation_id = store_text(merchant, "Do you have the blue parka in M?")
    assert runner.run(conversation_id).status == "replied"
    store_text(merchant, "And in L?")
    assert runner.run(conversation_id).status == "replied"
    assert checkpoint_reads == []  # neither turn's graph read its checkpoint again
    # the second turn's model saw the first turn from that checkpoint
    gemini = fakes["gemini"]
    said = gemini.user_texts(gemini.requests[-1])
    assert any("blue parka" in text for text in said) and any("in L?" in text for text in said)
    assert len(gemini.requests[-1]["contents"]) > len(gemini.requests[0]["contents"])
    config = {"configurable": {"thread_id": str(conversation_id)}}
    state = runtime.conversation_graph().get_state(config).values  # read from the database
    assert _threads(checkpoint_reads) == [str(conversation_id)]
    asked = [str(m.content) for m in state["messages"] if m.type == "human"]
    assert len(asked) == 2 and "blue parka" in asked[0] and "in L?" in asked[1]


def test_a_checkpoint_read_ahead_is_taken_once_and_only_for_its_thread(
    merchant, fakes, checkpoint_reads
):
    from persistence.checkpoint import read_ahead
    from services.turns.start import read_turn_start
    from tasks import runner, runtime

    conversation_id = store_text(merchant, "Hello")
    assert runner.run(conversation_id).status == "replied"
    with session_scope() as session:
        ahead = read_turn_start(session, conversation_id).checkpoint
    assert ahead is not None and ahead.row is not None
    saver, thread = runtime.checkpointer(), str(conversation_id)
    stored = saver.get_tuple({"configurable": {"thread_id": thread}})
    assert _threads(checkpoint_reads) == [thread]
    with read_ahead(ahead):
        other = saver.get_tuple({"configurable": {"thread_id": "999999"}})
        taken = saver.get_tuple({"configurable": {"thread_id": thread}})
        again = saver.get_tuple({"configurable": {"thread_id": thread}})
    assert other is None and _threads(checkpoint_reads) == [thread, "999999", thread]
    assert taken is not None and stored is not None and again is not None
    assert taken.config == stored.config == again.config
    assert taken.checkpoint == stored.checkpoint and taken.metadata == stored.metadata
