"""Simulators of the Gemini and OpenAI chat APIs (`llm_gemini`, `llm_openai`), speaking
their real wire formats, for the tests and the benchmarks.

Both share one scripting API: queue `reply` / `call_tool` / `fail` / `hang` steps,
consumed one per request in order; when the queue is empty `default(request)` gives
the reply text (an echo of the last user turn). Structured-output requests (a JSON schema
in the request, as `with_structured_output` sends) never touch that queue: they go to
`structured(request, schema)`, which returns the object (by default, every required string
property filled in), and are kept apart in `structured_requests`. Token counts are deterministic
estimates (characters / 4) so benchmarks can compare prompt sizes. A request the model
would refuse (a thinking or reasoning setting outside its range, a temperature a reasoning
model does not take) gets the provider's 400, as the real API answers it.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from channels.simulators.http import LoopbackServer, Request, Response

JSON = dict[str, Any]


@dataclass
class Step:
    kind: str  # "reply" | "tool" | "empty" | "fail" | "hang"
    text: str = ""
    name: str = ""
    args: JSON = field(default_factory=dict)
    status: int = 200
    message: str | None = None
    seconds: float = 0.0


@dataclass
class Answer:
    """What the model says: text, or one tool call; neither, with `finish` saying why, is
    the empty answer models give now and then (blocked, or nothing generated)."""

    text: str | None = None
    tool_name: str | None = None
    tool_args: JSON | None = None
    finish: str | None = None

    @property
    def size(self) -> int:
        return (
            len(self.text or "") + len(json.dumps(self.tool_args or {})) + len(self.tool_name or "")
        )


def estimate_tokens(chars: int) -> int:
    return max(1, math.ceil(chars / 4))


def fill_schema(request: JSON, schema: JSON) -> JSON:
    """A valid object for a flat schema: each string property named after itself."""
    properties = schema.get("properties", {})
    return {
        name: f"fake {name}" if spec.get("type", "string") == "string" else None
        for name, spec in properties.items()
    }


def echo(simulator: LLMSimulator, request: JSON) -> str:
    """The last user turn; for a turn started by notes alone (Switchboard's bracketed cue),
    the newest note in the system prompt, as a model relaying a staff answer would."""
    texts = simulator.user_texts(request)
    last = texts[-1] if texts else ""
    if last.startswith("[No new message"):
        notes = simulator.system_text(request).partition("New since your last answer:\n")[2]
        last = notes.split("\nEarlier:")[0].strip().removeprefix("- ") or last
    return f"Echo: {last}"


class LLMSimulator(LoopbackServer):
    """The shared scripting API; subclasses speak one provider's format."""

    def __init__(self, api_key: str = "test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.delay = 0.0
        self.default: Callable[[JSON], str] = lambda request: echo(self, request)
        self.requests: list[JSON] = []
        self.models: list[str] = []  # the model each `requests` entry asked for
        self.request_times: list[float] = []  # time.time() of each `requests` entry (benchmarks)
        self.structured: Callable[[JSON, JSON], JSON] = fill_schema
        self.structured_requests: list[JSON] = []
        self.structured_failures = 0  # the next n structured requests answer 503
        self.model_lookups: list[str] = []  # models asked for by GET (health checks)
        self._script: deque[Step] = deque()
        self._conditional: list[tuple[Callable[[JSON], bool], Step]] = []
        self._arrived = threading.Condition(self.lock)

    # --- scripting -------------------------------------------------------------
    def reply(self, text: str) -> LLMSimulator:
        return self._queue(Step("reply", text=text))

    def call_tool(self, name: str, args: JSON) -> LLMSimulator:
        return self._queue(Step("tool", name=name, args=dict(args)))

    def empty(self, finish: str = "STOP", times: int = 1) -> LLMSimulator:
        """Answer with no text and no tool call. `finish` is Gemini's finishReason ("STOP":
        nothing generated; "SAFETY": the candidate was blocked); the OpenAI simulator
        maps it to its own finish_reason."""
        return self._queue(*[Step("empty", message=finish)] * times)

    def fail(self, http_status: int, times: int = 1, message: str | None = None) -> LLMSimulator:
        return self._queue(*[Step("fail", status=http_status, message=message)] * times)

    def hang(self, seconds: float, times: int = 1) -> LLMSimulator:
        """Sleep before answering (the client should time out first)."""
        return self._queue(*[Step("hang", seconds=seconds)] * times)

    def call_tool_when(
        self, predicate: Callable[[JSON], bool], name: str, args: JSON
    ) -> LLMSimulator:
        """Answer the first request matching `predicate` with this tool call, before the
        queue: for conversations whose turns run concurrently."""
        with self.lock:
            self._conditional.append((predicate, Step("tool", name=name, args=dict(args))))
        return self

    def _queue(self, *steps: Step) -> LLMSimulator:
        with self.lock:
            self._script.extend(steps)
        return self

    def reset(self) -> None:
        with self.lock:
            self._script.clear()
            self._conditional.clear()
            self.requests.clear()
            self.models.clear()
            self.request_times.clear()
            self.structured = fill_schema
            self.structured_requests.clear()
            self.structured_failures = 0
            self.model_lookups.clear()
            self.delay = 0.0
            self.default = lambda request: echo(self, request)

    # --- inspection ------------------------------------------------------------
    @property
    def last_request(self) -> JSON | None:
        with self.lock:
            return self.requests[-1] if self.requests else None

    def wait_for_requests(self, n: int, timeout: float = 10) -> list[JSON]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= n, timeout):
                raise TimeoutError(f"{len(self.requests)} requests after {timeout}s, wanted {n}")
            return list(self.requests)

    def user_texts(self, request: JSON) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def tool_outputs(self, request: JSON) -> list[str]:  # pragma: no cover - abstract
        """What the tools returned, as the request carries them back to the model."""
        raise NotImplementedError

    def system_text(self, request: JSON) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def tool_names(self, request: JSON) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def base_url(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- serving ---------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.method == "GET" and (looked_up := self.model_path(request.path)):
            return self._model(request, looked_up)
        model = self.route(request)
        if model is None:
            return self.error(404, f"no route for {request.method} {request.path}")
        body = request.json() or {}
        schema = self.response_schema(body)
        if schema is not None:
            return self._structured(model, request, body, schema)
        with self.lock:
            self.requests.append(body)
            self.models.append(model)
            self.request_times.append(time.time())
            self._arrived.notify_all()
            if denied := self.check_key(request) or self.refuse(model, body):
                return denied
            step = self._next_step(body)
            default, delay = self.default, self.delay
        time.sleep(delay)
        if step is not None and step.kind == "fail":
            return self.error(step.status, step.message)
        if step is not None and step.kind == "hang":
            time.sleep(step.seconds)
        if step is not None and step.kind == "tool":
            answer = Answer(tool_name=step.name, tool_args=step.args)
        elif step is not None and step.kind == "empty":
            answer = Answer(finish=step.message)
        else:
            text = step.text if step is not None and step.kind == "reply" else default(body)
            answer = Answer(text=text)
        return self.answer(model, body, answer)

    def _next_step(self, body: JSON) -> Step | None:
        for index, (predicate, step) in enumerate(self._conditional):
            if predicate(body):
                del self._conditional[index]
                return step
        return self._script.popleft() if self._script else None

    def _structured(self, model: str, request: Request, body: JSON, schema: JSON) -> Response:
        with self.lock:
            self.structured_requests.append(body)
            if denied := self.check_key(request) or self.refuse(model, body):
                return denied
            failing = self.structured_failures > 0
            self.structured_failures -= 1 if failing else 0
            responder = self.structured
        if failing:
            return self.error(503, None)
        return self.answer(model, body, Answer(text=json.dumps(responder(body, schema))))

    def _model(self, request: Request, model: str) -> Response:
        """One model's description, as a health check asks for it (no generation)."""
        with self.lock:
            self.model_lookups.append(model)
            if denied := self.check_key(request):
                return denied
        return self.model_description(model)

    def model_path(self, path: str) -> str | None:  # pragma: no cover - abstract
        """The model named by a GET of one model's description, None for any other path."""
        raise NotImplementedError

    def model_description(self, model: str) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def response_schema(self, body: JSON) -> JSON | None:  # pragma: no cover - abstract
        """The JSON schema a structured-output request asks for, None for a chat request."""
        raise NotImplementedError

    def route(self, request: Request) -> str | None:  # pragma: no cover - abstract
        """The model name for a chat request, None for any other path."""
        raise NotImplementedError

    def check_key(self, request: Request) -> Response | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def refuse(self, model: str, body: JSON) -> Response | None:
        """The provider's 400 for a request this model does not take (a thinking setting out
        of its range), None for a valid one."""
        return None

    def error(self, status: int, message: str | None) -> Response:  # pragma: no cover
        raise NotImplementedError

    def answer(self, model: str, body: JSON, answer: Answer) -> Response:  # pragma: no cover
        raise NotImplementedError
