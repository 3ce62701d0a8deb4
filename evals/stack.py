"""The system under evaluation, in this process: real PostgreSQL, the real graph, tools and
turn service (tasks.runner.run, as the Celery task calls it), and a Graph API simulator
recording what WhatsApp would deliver.

The model is the configured one (`live`) or a Gemini simulator replaying recorded
answers. Work the services schedule after commit (notifying staff, delivering their
answers, the next turn) is captured instead of going to a broker, and `drain()` runs it
here, in order, with the same task bodies a worker runs.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from channels.simulators.graph import GraphSimulator
from evals import environment
from evals.merchants import FROZEN_NOW, MERCHANTS, EvalMerchant
from evals.recording import Replay

GRAPH_VERSION = "v23.0"
ACCESS_TOKEN = "evals-access-token"
# Madrid, Lisbon and Austin: the merchants' clocks and hours for "are you open now?"
ZONES = {"zapateria": "Europe/Madrid", "tasca": "Europe/Lisbon", "voltbox": "America/Chicago"}
HOURS = {
    "zapateria": {d: ["10:00-14:00", "17:00-20:30"] for d in ("mon", "tue", "wed", "thu", "fri")}
    | {"sat": ["10:00-14:00"]},
    "tasca": {d: ["12:00-15:00", "19:00-23:00"] for d in ("tue", "wed", "thu", "fri", "sat")}
    | {"sun": ["12:00-15:00", "19:00-23:00"]},
    "voltbox": {d: ["10:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
    | {"sun": ["11:00-18:00"]},
}
# tasks run in process by drain(); the others (media fetch, events, reconcile) are not
# part of what a turn evaluation scores
_DRAINED = (
    "switchboard.notifications.dispatch",
    "switchboard.notifications.deliver_answer",
    "switchboard.notifications.draft_knowledge",
    "switchboard.turn.flush",
)


@dataclass
class Shop:
    merchant: EvalMerchant
    merchant_id: int
    phone_number_id: str


@dataclass
class Stack:
    graph: GraphSimulator
    replay: Replay | None  # None: the live model
    shops: dict[str, Shop]
    jobs: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def run_turn(self, conversation_id: int) -> str:
        """One turn as the messages queue's task runs it; its outcome."""
        from tasks import runner

        outcome = runner.run(conversation_id)
        return str(outcome.status)

    def drain(self, *, limit: int = 20) -> list[str]:
        """Run the scheduled work until none is left; the task names run."""
        ran: list[str] = []
        while self.jobs and len(ran) < limit:
            name, args = self.jobs.pop(0)
            if name not in _DRAINED:
                continue
            ran.append(name)
            if name == "switchboard.turn.flush":
                self.run_turn(*args)
                continue
            from tasks import app

            app.tasks[name].run(*args)
        return ran


def phone_number_id(index: int) -> str:
    return f"90000000000{index}"


@contextmanager
def started(*, live: bool, database_url: str | None = None) -> Iterator[Stack]:
    """The stack with the three merchants seeded, each with its own WhatsApp number."""
    graph = GraphSimulator(version=GRAPH_VERSION).start()
    saved = {k: os.environ.get(k) for k in _OVERRIDES}
    try:
        with environment.database(database_url):
            _set_environment(graph)
            with _model(live) as replay, environment.seeded(MERCHANTS) as seeded:
                shops = _shops(seeded)
                stack = Stack(graph=graph, replay=replay, shops=shops)
                with _captured_jobs(stack.jobs), _frozen_clock():
                    yield stack
    finally:
        graph.stop()
        environment.restore(saved)
        _reset()


_OVERRIDES = (
    "WHATSAPP_API_BASE_URL", "WHATSAPP_API_VERSION", "WHATSAPP_MEDIA_HOSTS",
    "HISTORY_MAX_MESSAGES", "CONTEXT_MAX_TOKENS", "TURN_DEADLINE_SECONDS", "LLM_TIMEOUT_SECONDS",
    "LOG_LEVEL", "SEND_STATUS_GRACE_SECONDS",
)  # fmt: skip


def _set_environment(graph: GraphSimulator) -> None:
    os.environ.update(
        {"WHATSAPP_API_BASE_URL": graph.url, "WHATSAPP_API_VERSION": GRAPH_VERSION,
         "WHATSAPP_MEDIA_HOSTS": graph.url, "LOG_LEVEL": "WARNING",
         "SEND_STATUS_GRACE_SECONDS": "1"}
    )  # fmt: skip
    _reset()


_PER_CASE = _OVERRIDES[3:7]


def configure(**settings: str) -> None:
    """Per-case settings (HISTORY_MAX_MESSAGES=...); the graph and model are rebuilt."""
    for name in _PER_CASE:
        os.environ.pop(name, None)
    os.environ.update(settings)
    _reset()


def _reset() -> None:
    from persistence.db import get_engine, get_sessionmaker
    from settings import get_settings
    from tasks import runtime

    get_settings.cache_clear()
    for cached in (runtime.checkpointer, runtime.agent_model, runtime.conversation_graph):
        cached.cache_clear()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()
    reset_clients = getattr(getattr(runtime, "whatsapp_clients", None), "reset", None)
    if reset_clients:
        reset_clients()


@contextmanager
def _model(live: bool) -> Iterator[Replay | None]:
    if live:
        if not environment.model_configured():
            raise SystemExit("--live needs GOOGLE_API_KEY or OPENAI_API_KEY")
        yield None
        return
    replay = Replay()
    with environment.replayed_model(lambda prompt: {}) as simulator:
        replay.attach(simulator)
        _reset()
        yield replay


def _shops(seeded: dict[str, tuple[int, dict[str, int]]]) -> dict[str, Shop]:
    from persistence.db import session_scope
    from persistence.models import Merchant
    from services.merchants.merchant import add_phone_number

    shops = {}
    with session_scope() as session:
        for index, m in enumerate(MERCHANTS, 1):
            merchant_id = seeded[m.key][0]
            number = phone_number_id(index)
            add_phone_number(
                session, merchant_id=merchant_id, phone_number_id=number,
                access_token=ACCESS_TOKEN, display_phone_number=f"1555000000{index}",
            )  # fmt: skip
            row = session.get(Merchant, merchant_id)
            if hasattr(row, "opening_hours"):  # code before #21 point 6 has no hours
                row.timezone = ZONES[m.key]  # type: ignore[union-attr]
                row.opening_hours = HOURS[m.key]  # type: ignore[union-attr]
            shops[m.key] = Shop(m, merchant_id, number)
    return shops


@contextmanager
def _captured_jobs(jobs: list[tuple[str, tuple[Any, ...]]]) -> Iterator[None]:
    from persistence import jobs as scheduling

    original: Callable[..., bool] = scheduling.send

    def capture(job: Any) -> bool:
        jobs.append((job.task, tuple(job.args)))
        return True

    scheduling.send = capture
    try:
        yield
    finally:
        scheduling.send = original


@contextmanager
def _frozen_clock() -> Iterator[None]:
    from services.turns import flows

    original = getattr(flows, "clock", None)
    if original is not None:
        flows.clock = lambda: FROZEN_NOW
    try:
        yield
    finally:
        if original is not None:
            flows.clock = original


IMAGE_MARK = "[image] "  # a burst's message "[image] caption": a photo with that caption
# a 1x1 PNG: what the photo shows is the recorded description, not its pixels
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def store_customer_text(
    shop: Shop, wa_id: str, text: str, *, name: str = "Cliente", graph: GraphSimulator | None = None
) -> int:
    """A customer's WhatsApp message, stored as the webhook stores it; its conversation's
    id. A text starting with IMAGE_MARK is a photo (served by `graph`) with that caption."""
    from channels.simulators.webhooks import media_message, message_payload, text_message
    from channels.webhook import parse_notification
    from persistence.db import session_scope
    from services.ingest import ingest

    if text.startswith(IMAGE_MARK) and graph is not None:
        media_id = graph.add_media(_PNG, "image/png")
        digest = hashlib.sha256(_PNG).hexdigest()
        message = media_message("image", media_id=media_id, mime_type="image/png", sha256=digest,
                                caption=text.removeprefix(IMAGE_MARK))  # fmt: skip
    else:
        message = text_message(text)
    message["timestamp"] = str(int(time.time()))
    payload = message_payload(
        phone_number_id=shop.phone_number_id, message=message, wa_id=wa_id, profile_name=name
    )
    with session_scope() as session:
        result = ingest.record_notification(session, parse_notification(payload))
    (conversation_id,) = result.to_buffer
    return int(conversation_id)


def add_note(conversation_id: int, text: str) -> None:
    from persistence.db import session_scope
    from services.handoff.handoff import add_note as note

    with session_scope() as session:
        note(session, conversation_id, text)


def received(graph: GraphSimulator, recipient: str) -> list[str]:
    """What WhatsApp delivered to `recipient`, one text per message: a text's body, or the
    words of a template, interactive or media message."""
    from channels.simulators.graph_wire import addresses

    with graph.lock:
        bodies = [body for body in graph.sent if recipient in addresses(body)]
    return [
        body["text"]["body"] if body.get("type", "text") == "text" else _words(body)
        for body in bodies
    ]


def _words(body: Any) -> str:
    if isinstance(body, dict):
        skip = ("to", "recipient", "_wamid")
        return " ".join(_words(v) for k, v in body.items() if k not in skip)
    if isinstance(body, list):
        return " ".join(_words(v) for v in body)
    return str(body) if isinstance(body, str) else ""


def live_steps(conversation_id: int) -> list[dict[str, Any]]:
    """The model's answers in the conversation's last turn, as recording steps."""
    from evals.recording import steps_of_turn

    return steps_of_turn(_graph_messages(conversation_id))


def live_tool_outputs(conversation_id: int) -> list[str]:
    """What the tools returned in the conversation's last turn (for the judge)."""
    from langchain_core.messages import ToolMessage

    messages = _graph_messages(conversation_id)
    humans = [i for i, m in enumerate(messages) if m.type == "human"]
    since = humans[-1] if humans else 0
    return [str(m.content) for m in messages[since:] if isinstance(m, ToolMessage)]


def live_tokens(conversation_id: int) -> int:
    """The provider's token counts for the conversation's last turn."""
    messages = _graph_messages(conversation_id)
    humans = [i for i, m in enumerate(messages) if m.type == "human"]
    since = humans[-1] if humans else 0
    usage = [getattr(m, "usage_metadata", None) or {} for m in messages[since:]]
    return sum(int(u.get("total_tokens", 0)) for u in usage)


def _graph_messages(conversation_id: int) -> list[Any]:
    from tasks import runtime

    config: Any = {"configurable": {"thread_id": str(conversation_id)}}
    return list(runtime.conversation_graph().get_state(config).values.get("messages", []))
