"""Per-process resources for workers: made after fork, never shared with the parent."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, cast

from celery.signals import worker_init, worker_process_init, worker_process_shutdown
from psycopg import Connection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from graph.builder import ConversationGraph, build_graph
from graph.context import Role, TurnContext
from graph.llm import LLMNotConfigured, build_agent_model, reset_models
from graph.nodes.agent import AgentModel
from persistence import db, inbox, storage
from persistence.buffer import process_buffer as buffer
from persistence.checkpoint import LatestCheckpointSaver
from services.conversations.language import load_identifier
from services.merchants import clients as whatsapp_clients
from services.turns import presence
from services.turns.graph_services import GraphServices
from settings import get_settings
from tools import tools_for

log = logging.getLogger(__name__)


@lru_cache
def checkpoint_pool() -> ConnectionPool[Connection[DictRow]]:
    pool = ConnectionPool(
        db.libpq_url(db.database_url()),
        min_size=1,
        max_size=4,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        configure=_commit_without_waiting_for_the_disk,
        check=db.check_idle_connection,  # after a PostgreSQL restart: reconnect
        open=True,
    )
    # The row factory is passed through `kwargs`, which the pool's type does not see.
    return cast(ConnectionPool[Connection[DictRow]], pool)


def _commit_without_waiting_for_the_disk(connection: Connection[Any]) -> None:
    """Every checkpoint's commit skips its WAL flush (a flush a turn), for the reason
    persistence.db.commit_without_waiting_for_the_disk gives: the reply's claim flushes it
    before anything leaves. Here for the whole connection, which only checkpoints use."""
    connection.execute("SET synchronous_commit = off")


@lru_cache
def checkpointer() -> LatestCheckpointSaver:
    return LatestCheckpointSaver(checkpoint_pool())


@lru_cache
def agent_model(role: Role, commerce: bool = True, media: bool = True) -> AgentModel | None:
    try:
        return build_agent_model(get_settings(), tools_for(role, commerce=commerce, media=media))
    except LLMNotConfigured:
        return None


def model_for(context: TurnContext) -> AgentModel | None:
    """The model offered the tools this turn can use (tools.tools_for)."""
    return agent_model(context.role, context.store_connected, bool(context.media_library))


@lru_cache
def conversation_graph() -> ConversationGraph:
    settings = get_settings()
    return build_graph(
        checkpointer(),
        model_for,
        tools_for,
        GraphServices(),
        max_prompt_tokens=settings.context_max_tokens,
        history_max_messages=settings.history_max_messages,
    )


def reset() -> None:
    for cached in (checkpoint_pool, checkpointer, agent_model, conversation_graph, buffer):
        cached.cache_clear()
    reset_models()
    db.reset_engine()
    inbox.reset()
    whatsapp_clients.reset()
    presence.reset()
    storage.get_storage.cache_clear()


@worker_init.connect
def _before_fork(**_: object) -> None:
    """What every worker process uses and can share, loaded once before the pool forks:
    otherwise each process's first turn loads it (the language model: about a second)."""
    load_identifier()


@worker_process_init.connect
def _after_fork(**_: object) -> None:
    reset()


@worker_process_shutdown.connect
def _before_exit(**_: object) -> None:
    if checkpoint_pool.cache_info().currsize:
        checkpoint_pool().close()
    inbox.close()
