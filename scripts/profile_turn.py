"""Profile one conversation's turns in this process: SQL statements, commits and CPU per turn,
and where the time goes in our code (cProfile).

    python scripts/profile_turn.py              # 30 turns, one message each
    python scripts/profile_turn.py --turns 100 --top 40 --dump /tmp/turn.prof

The stack is the benchmark's (scripts/bench/stack.py: embedded PostgreSQL and Redis, the
fake Graph API and Gemini answering at once), but no worker runs: each message goes
through the real webhook (in-process TestClient) and its turn runs here, as a worker's
`switchboard.turn.flush` would run it once the burst is due. Statement and commit counts do
not depend on the machine's load; CPU does, and includes the fakes answering in threads of
this process, so compare CPU only between runs on a quiet machine.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.bench.stack import APP_SECRET, ROOT, Stack, StackOptions


@contextmanager
def counting_statements(counts: Counter[str]) -> Iterator[None]:
    """Every statement psycopg sends (SQLAlchemy's and the checkpointer's), by verb."""
    import psycopg

    original = psycopg.Cursor.execute

    def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        verb = re.match(r"\W*(\w+)", query if isinstance(query, str) else str(query))
        counts[verb.group(1).upper() if verb else "?"] += 1
        return original(self, query, *args, **kwargs)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    try:
        yield
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]


@contextmanager
def counting_commits(commits: list[int]) -> Iterator[None]:
    """Every transaction committed on a psycopg connection (SQLAlchemy's sessions)."""
    import psycopg

    original = psycopg.Connection.commit

    def commit(self: Any) -> None:
        commits[0] += 1
        original(self)

    psycopg.Connection.commit = commit  # type: ignore[method-assign]
    try:
        yield
    finally:
        psycopg.Connection.commit = original  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument(
        "--words",
        type=int,
        default=0,
        help="messages of about this many words, echoed back (the benchmark's long "
        "conversation); 0: one short question and a fixed short answer",
    )
    parser.add_argument(
        "--floor", action="store_true",
        help="then time, alone, what any turn of this design does: a graph run on the "
        "conversation's checkpoint, the model call, the WhatsApp send, one transaction",
    )  # fmt: skip
    parser.add_argument("--top", type=int, default=25, help="functions of ours to list")
    parser.add_argument("--dump", type=Path, help="write the cProfile stats here")
    parser.add_argument(
        "--no-profile", action="store_true",
        help="leave cProfile off: CPU and wall time per turn as a worker would spend them",
    )  # fmt: skip
    parser.add_argument(
        "--idle", type=float, default=0.0, metavar="SECONDS",
        help="leave the machine idle this long before each turn, as the benchmark's burst "
        "window does (0.05 there): its caches go cold, and the turn takes longer",
    )  # fmt: skip
    args = parser.parse_args(argv)
    options = StackOptions(
        buffer_seconds=0.05, buffer_max_seconds=0.1, sweeper_seconds=3600, workers=1,
        api_workers=1, llm_latency=0.0, database_url=None, redis_url=None, keep_data=False,
    )  # fmt: skip
    stack = Stack(options).start()
    try:
        return _profile(stack, args)
    finally:
        stack.close()


def _profile(stack: Stack, args: argparse.Namespace) -> int:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from channels.simulators.webhooks import sign, text_message_payload
    from scripts.bench import db
    from scripts.bench.common import text_of
    from scripts.bench.turns import sequential_latencies
    from services.ingest.inbox import drain_all
    from tasks import runner

    stack.reset_fakes()
    if not args.words:
        stack.gemini.default = lambda request: "Sure, happy to help with that."
    phone = stack.add_phone("profile")
    with TestClient(create_app()) as client:

        def post(i: int) -> None:
            payload = text_message_payload(
                phone_number_id=phone["phone_number_id"], wa_id="15550009999",
                text=text_of(args.words, i) if args.words else f"question {i} about running shoes",
                timestamp=int(time.time()) + i,
            )  # fmt: skip
            body = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json",
                       "X-Hub-Signature-256": sign(body, APP_SECRET)}  # fmt: skip
            client.post("/webhook", content=body, headers=headers).raise_for_status()
            drain_all(client.app.state.scheduler)  # the inbox, as a worker's drain would

        post(0)
        conversation = next(iter(db.conversations(phone["id"]).values()))
        for i in range(4):  # warm: imports, pools, the model client, the first checkpoint
            post(1000 + i)
            runner.run(conversation)
        profile, statements, commits = cProfile.Profile(), Counter[str](), [0]
        cpu: list[float] = []
        own: list[float] = []  # this thread's: the turn without the fakes answering
        wall: list[float] = []
        for i in range(args.turns):
            post(i + 1)
            time.sleep(args.idle)
            started, clock, mine = time.process_time(), time.perf_counter(), time.thread_time()
            with counting_statements(statements), counting_commits(commits):
                if not args.no_profile:
                    profile.enable()
                runner.run(conversation)
                profile.disable()
            cpu.append(time.process_time() - started)
            own.append(time.thread_time() - mine)
            wall.append(time.perf_counter() - clock)
    n = args.turns
    latencies = sequential_latencies(stack, phone["id"])[-n:]
    tenth = max(1, n // 10)
    print(
        "wall ms by turn: "
        + ", ".join(
            f"{i + 5}-{i + 5 + tenth - 1}: {1000 * median(wall[i : i + tenth]):.1f}"
            for i in range(0, n - tenth + 1, tenth)
        )
    )
    per_turn = ", ".join(f"{verb} {count / n:g}" for verb, count in statements.most_common())
    print(f"{n} turns: {sum(statements.values()) / n:g} statements per turn ({per_turn}); "
          f"{commits[0] / n:g} commits per turn; CPU median {1000 * median(cpu):.1f} ms "
          f"(the turn's thread {1000 * median(own):.1f} ms), "
          f"wall median {1000 * median(wall):.1f} ms per turn "
          f"({'cProfile off' if args.no_profile else 'with cProfile on'}); from the turn's "
          f"start to its send, as the benchmark times it, median "
          f"{1000 * median(latencies):.1f} ms")  # fmt: skip
    if not args.no_profile:
        _ours(profile, n, args.top)
    if args.floor:
        _floor(stack, phone, conversation, n)
    if args.dump and not args.no_profile:
        profile.dump_stats(args.dump)
    return 0


def _floor(stack: Stack, phone: dict[str, Any], conversation: int, n: int) -> None:
    """Median wall time of each part a turn of this design cannot do without, each alone,
    on the conversation as the turns left it: their sum is the turn's floor here."""
    from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage, SystemMessage
    from langgraph.graph import END, START, StateGraph
    from sqlalchemy import text

    from graph.llm import invoke_agent_model
    from graph.state import ConversationState
    from persistence.db import session_scope
    from persistence.models import PhoneNumber
    from services.merchants.clients import client_for
    from tasks import runtime

    config: Any = {"configurable": {"thread_id": str(conversation)}}
    messages = runtime.conversation_graph().get_state(config).values["messages"]

    def one_exchange(state: ConversationState) -> dict:
        """What a turn does to the state: a new exchange in, the oldest one out."""
        old = state["messages"][:2]
        return {"messages": [*(RemoveMessage(id=m.id) for m in old if m.id),
                             HumanMessage("question"), AIMessage("answer")]}  # fmt: skip

    builder = StateGraph(ConversationState)
    builder.add_node("turn", one_exchange)
    builder.add_edge(START, "turn")
    builder.add_edge("turn", END)
    graph = builder.compile(checkpointer=runtime.checkpointer())
    floor_config: Any = {"configurable": {"thread_id": f"floor-{conversation}"}}
    graph.update_state(floor_config, {"messages": messages})
    model = runtime.agent_model("customer", False, False)
    assert model is not None
    prompt = [SystemMessage("You are a helpful assistant for a shoe shop."), *messages]
    with session_scope() as session:
        row = session.get(PhoneNumber, phone["id"])
        assert row is not None
        whatsapp = client_for(row)
    send = {"to": "15550009999", "type": "text", "text": {"body": "Sure, happy to help."}}

    def transaction() -> None:
        with session_scope() as session:
            session.execute(text("UPDATE conversations SET id = id WHERE id = :c"),
                            {"c": conversation})  # fmt: skip

    parts = {
        f"graph run, checkpoint of {len(messages)} messages": lambda: graph.invoke(
            {}, floor_config, durability="exit"
        ),
        "model call (GeminiChat, same history)": lambda: invoke_agent_model(model, prompt),
        "WhatsApp send": lambda: whatsapp.send(send),
        "one transaction (UPDATE, commit)": transaction,
    }
    total = 0.0
    print("floor, median wall of each part alone:")
    for name, run in parts.items():
        times = []
        for _ in range(max(n, 20)):
            clock = time.perf_counter()
            run()
            times.append(time.perf_counter() - clock)
        total += median(times)
        print(f"  {1000 * median(times):6.1f} ms  {name}")
    print(f"  {1000 * total:6.1f} ms  sum (a turn also opens, locks, records and finishes)")


def _ours(profile: cProfile.Profile, turns: int, top: int) -> None:
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    rows = [
        (cumulative, calls, f"{Path(file).relative_to(ROOT)}:{line} {name}")
        for (file, line, name), (_, calls, _, cumulative, _) in stats.items()
        if file.startswith(str(ROOT)) and "/scripts/" not in file
    ]
    print(f"{'ms/turn':>8} {'calls/turn':>10}  function (cumulative, ours)")
    for cumulative, calls, where in sorted(rows, reverse=True)[:top]:
        print(f"{1000 * cumulative / turns:8.1f} {calls / turns:10g}  {where}")


if __name__ == "__main__":
    sys.exit(main())
