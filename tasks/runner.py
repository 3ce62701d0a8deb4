"""Glue between the buffer, the turn service and this process's graph."""

from __future__ import annotations

import redis
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphRecursionError

from graph.context import TurnContext
from observability.logs import get_logger
from persistence.db import read_scope, session_scope
from services.handoff.handoff import escalate_after_failure
from services.media.flows import prepare_turn_media
from services.turns import flows as turns
from services.turns import opening
from services.turns.presence import typing_indicator
from tasks import runtime

log = get_logger(__name__)


def seconds_until_due(conversation_id: int) -> float | None:
    """Close the burst if due. Without Redis we go ahead: PostgreSQL has the messages."""
    try:
        left = runtime.buffer().claim(conversation_id)
    except redis.RedisError as exc:
        log.warning("buffer.unavailable", conversation_id=conversation_id, error=exc)
        return None
    return left or None


def next_burst_countdown(conversation_id: int) -> float | None:
    """When to flush messages that are waiting, or None when nothing waits."""
    with read_scope() as session:
        if not opening.has_pending(session, conversation_id):
            return None
    return runtime.buffer().seconds_left(conversation_id) or 0.0


def _give_up(conversation_id: int, reason: str) -> tuple[str | None, str]:
    with session_scope() as session:
        holding = escalate_after_failure(session, conversation_id, reason)
    return holding, "needs_human"


def give_up_stuck_turn(conversation_id: int) -> None:
    """The turn hit the task's soft time limit: finish it, flag a person, tell the customer
    once. Idempotent: the holding message is the open turn's reply (outbox key)."""
    turns.abandon_turn(conversation_id, reason="The AI took too long to answer")


def run(conversation_id: int) -> turns.TurnOutcome:
    return turns.run_turn(conversation_id, run_graph=run_graph, presence=typing_indicator)


def run_graph(context: TurnContext) -> tuple[str | None, str]:
    """Invoke the graph unless its checkpoint shows this turn already ran; return the reply.
    Writing the checkpoint removes the older ones (persistence.checkpoint)."""
    graph = runtime.conversation_graph()
    config: RunnableConfig = {
        "configurable": {"thread_id": str(context.conversation_id)},
        "recursion_limit": 25,
    }
    # Only a redone turn can find its graph run finished already (the worker died between
    # the checkpoint and the send): a first attempt skips loading the checkpoint twice.
    values = graph.get_state(config).values if context.attempt > 1 else {}
    if values.get("turn_id") != context.turn_id:
        if context.media_to_prepare:
            prepare_turn_media(context.turn_id)
        try:
            values = graph.invoke({}, config, context=context, durability="exit")
        except GraphRecursionError:
            # the model kept calling tools (unknown ones, malformed arguments) without
            # ever answering: a person takes it from here
            log.warning("turn.runaway", limit=config["recursion_limit"])
            return _give_up(context.conversation_id, "The AI kept calling tools without answering")
    return values.get("reply"), values.get("outcome", "no_reply")
