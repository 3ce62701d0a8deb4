"""Recorded model answers, replayed through the Gemini simulator.

A recording file (evals/recordings/<suite>.json) maps a case id to
`{"steps": [[step, ...] per step of the case], "structured": {schema title: object}}`.
A step is what the model answered to one chat request, in order:
`{"text": "..."}`, `{"tool": name, "args": {...}}`, `{"empty": "STOP"}` (no text, no call),
`{"fail": 503, "times": 2}` (the API's error), `{"hang": seconds}`. In tool arguments
`{NOTIF}` stands for the newest notification's id (NOTIF_123), known only at run time.
Structured requests (language of a short text, query translation, summary, routing) are
answered by their schema's title; those not recorded get an empty or minimal object.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RECORDINGS = Path(__file__).resolve().parent / "recordings"
EXHAUSTED = "[replay exhausted]"
_DEFAULTS: dict[str, dict[str, Any]] = {
    "QueryTranslation": {"queries": []},
    "ConversationMemory": {"order_ids": [], "open_issues": [], "promises": [], "facts": []},
}


def load(suite: str) -> dict[str, Any]:
    path = RECORDINGS / f"{suite}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save(suite: str, recordings: dict[str, Any]) -> Path:
    RECORDINGS.mkdir(exist_ok=True)
    path = RECORDINGS / f"{suite}.json"
    path.write_text(json.dumps(recordings, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


class Replay:
    """Feeds one case's recorded steps to the simulator and reads back what it was asked."""

    def __init__(self) -> None:
        self.simulator: Any = None
        self.structured: dict[str, Any] = {}
        self.queued: list[dict[str, Any]] = []
        self.mark = 0

    def attach(self, simulator: Any) -> None:
        self.simulator = simulator

    def start_case(self, structured: dict[str, Any]) -> None:
        self.simulator.reset()
        self.simulator.default = lambda request: EXHAUSTED
        self.simulator.structured = self._structured
        self.structured = structured
        self.queued = []
        self.mark = 0

    def queue(self, steps: list[dict[str, Any]], notification: str = "") -> None:
        """The answers to the next chat requests (the step's turn and the work it starts)."""
        self.mark = len(self.simulator.requests)
        self.queued = [_substituted(step, notification) for step in steps]
        for step in self.queued:
            _script(self.simulator, step)

    def requests(self) -> list[dict[str, Any]]:
        """The chat requests since the last `queue`."""
        return list(self.simulator.requests[self.mark :])

    def answered(self) -> list[dict[str, Any]]:
        """The queued steps the model was asked for (one per chat request, in order)."""
        return self.queued[: len(self.requests())]

    def _structured(self, body: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
        title = str(schema.get("title", ""))
        if title in self.structured:
            return dict(self.structured[title])
        if title in _DEFAULTS:
            return dict(_DEFAULTS[title])
        from channels.simulators.llm import fill_schema

        return fill_schema(body, schema)


def _substituted(step: dict[str, Any], notification: str) -> dict[str, Any]:
    if "args" not in step:
        return step
    text = json.dumps(step["args"]).replace("{NOTIF}", notification)
    return {**step, "args": json.loads(text)}


def _script(simulator: Any, step: dict[str, Any]) -> None:
    if "tool" in step:
        simulator.call_tool(step["tool"], step.get("args", {}))
    elif "empty" in step:
        simulator.empty(step["empty"])
    elif "fail" in step:
        simulator.fail(int(step["fail"]), times=int(step.get("times", 1)))
    elif "hang" in step:
        simulator.hang(float(step["hang"]))
    else:
        simulator.reply(step.get("text", ""))


def steps_of_turn(messages: list[Any]) -> list[dict[str, Any]]:
    """A live turn's model answers, as recording steps: the AI messages after the last
    customer message of the graph's state."""
    from langchain_core.messages import AIMessage, HumanMessage

    last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    steps: list[dict[str, Any]] = []
    for message in messages[last_human + 1 :]:
        if not isinstance(message, AIMessage):
            continue
        for call in message.tool_calls:
            steps.append({"tool": call["name"], "args": call["args"]})
        if not message.tool_calls:
            steps.append({"text": message.text() if callable(message.text) else message.text})
    return steps
