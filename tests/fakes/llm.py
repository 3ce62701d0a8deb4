"""Fakes of the Gemini and OpenAI chat APIs, speaking their real wire formats.

Both share one scripting API: queue `reply` / `call_tool` / `fail` / `hang` steps,
consumed one per request in order; when the queue is empty `default(request)` gives
the reply text (an echo of the last user turn). Structured-output requests (a JSON schema
in the request, as `with_structured_output` sends) never touch that queue: they go to
`structured(request, schema)`, which returns the object (by default, every required string
property filled in), and are kept apart in `structured_requests`. Token counts are deterministic
estimates (characters / 4) so benchmarks can compare prompt sizes.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.server import FakeServer, Request, Response

JSON = dict[str, Any]


@dataclass
class Step:
    kind: str  # "reply" | "tool" | "fail" | "hang"
    text: str = ""
    name: str = ""
    args: JSON = field(default_factory=dict)
    status: int = 200
    message: str | None = None
    seconds: float = 0.0


@dataclass
class Answer:
    """What the model says: text, or one tool call."""

    text: str | None = None
    tool_name: str | None = None
    tool_args: JSON | None = None

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


def echo(fake: FakeLLM, request: JSON) -> str:
    texts = fake.user_texts(request)
    return f"Echo: {texts[-1] if texts else ''}"


class FakeLLM(FakeServer):
    """The shared scripting API; subclasses speak one provider's format."""

    def __init__(self, api_key: str = "test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.delay = 0.0
        self.default: Callable[[JSON], str] = lambda request: echo(self, request)
        self.requests: list[JSON] = []
        self.request_times: list[float] = []  # time.time() of each `requests` entry (benchmarks)
        self.structured: Callable[[JSON, JSON], JSON] = fill_schema
        self.structured_requests: list[JSON] = []
        self.structured_failures = 0  # the next n structured requests answer 503
        self._script: deque[Step] = deque()
        self._conditional: list[tuple[Callable[[JSON], bool], Step]] = []
        self._arrived = threading.Condition(self.lock)

    # --- scripting -------------------------------------------------------------
    def reply(self, text: str) -> FakeLLM:
        return self._queue(Step("reply", text=text))

    def call_tool(self, name: str, args: JSON) -> FakeLLM:
        return self._queue(Step("tool", name=name, args=dict(args)))

    def fail(self, http_status: int, times: int = 1, message: str | None = None) -> FakeLLM:
        return self._queue(*[Step("fail", status=http_status, message=message)] * times)

    def hang(self, seconds: float, times: int = 1) -> FakeLLM:
        """Sleep before answering (the client should time out first)."""
        return self._queue(*[Step("hang", seconds=seconds)] * times)

    def call_tool_when(self, predicate: Callable[[JSON], bool], name: str, args: JSON) -> FakeLLM:
        """Answer the first request matching `predicate` with this tool call, before the
        queue: for conversations whose turns run concurrently."""
        with self.lock:
            self._conditional.append((predicate, Step("tool", name=name, args=dict(args))))
        return self

    def _queue(self, *steps: Step) -> FakeLLM:
        with self.lock:
            self._script.extend(steps)
        return self

    def reset(self) -> None:
        with self.lock:
            self._script.clear()
            self._conditional.clear()
            self.requests.clear()
            self.request_times.clear()
            self.structured = fill_schema
            self.structured_requests.clear()
            self.structured_failures = 0
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

    def system_text(self, request: JSON) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def tool_names(self, request: JSON) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def base_url(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- serving ---------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        model = self.route(request)
        if model is None:
            return self.error(404, f"no route for {request.method} {request.path}")
        body = request.json() or {}
        schema = self.response_schema(body)
        if schema is not None:
            return self._structured(model, request, body, schema)
        with self.lock:
            self.requests.append(body)
            self.request_times.append(time.time())
            self._arrived.notify_all()
            if denied := self.check_key(request):
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
            if denied := self.check_key(request):
                return denied
            failing = self.structured_failures > 0
            self.structured_failures -= 1 if failing else 0
            responder = self.structured
        if failing:
            return self.error(503, None)
        return self.answer(model, body, Answer(text=json.dumps(responder(body, schema))))

    def response_schema(self, body: JSON) -> JSON | None:  # pragma: no cover - abstract
        """The JSON schema a structured-output request asks for, None for a chat request."""
        raise NotImplementedError

    def route(self, request: Request) -> str | None:  # pragma: no cover - abstract
        """The model name for a chat request, None for any other path."""
        raise NotImplementedError

    def check_key(self, request: Request) -> Response | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def error(self, status: int, message: str | None) -> Response:  # pragma: no cover
        raise NotImplementedError

    def answer(self, model: str, body: JSON, answer: Answer) -> Response:  # pragma: no cover
        raise NotImplementedError


# --- Gemini (generativelanguage.googleapis.com, v1beta) ---------------------------

GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
GOOGLE_MESSAGE = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials.",
    403: "The caller does not have permission",
    429: "You exceeded your current quota, please check your plan and billing details.",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
}
GEMINI_PATH = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):generateContent$")


def _parts_text(parts: list[JSON]) -> str:
    return "\n".join(part["text"] for part in parts if "text" in part and not part.get("thought"))


class FakeGemini(FakeLLM):
    """`POST /v1beta/models/{model}:generateContent` with `x-goog-api-key`."""

    @property
    def base_url(self) -> str:
        return self.url  # the SDK appends /v1beta/models/...

    def response_schema(self, body: JSON) -> JSON | None:
        config = body.get("generationConfig") or {}
        if config.get("responseMimeType") != "application/json":
            return None
        return config.get("responseJsonSchema") or config.get("responseSchema") or {}

    def route(self, request: Request) -> str | None:
        match = GEMINI_PATH.match(request.path)
        return match["model"] if match and request.method == "POST" else None

    def check_key(self, request: Request) -> Response | None:
        key = request.headers.get("x-goog-api-key") or (request.query.get("key") or [None])[0]
        if not key:
            return self.error(
                403,
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity "
                "to call this API.",
            )
        if key != self.api_key:
            response = self.error(400, "API key not valid. Please pass a valid API key.")
            payload = json.loads(response.body)
            payload["error"]["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ]
            return Response.json(payload, status=400)
        return None

    def error(self, status: int, message: str | None) -> Response:
        text = message or GOOGLE_MESSAGE.get(status, "Internal error encountered.")
        payload = {
            "error": {
                "code": status,
                "message": text,
                "status": GOOGLE_STATUS.get(status, "UNKNOWN"),
            }
        }
        return Response.json(payload, status=status)

    def answer(self, model: str, body: JSON, answer: Answer) -> Response:
        if answer.tool_name is not None:
            part: JSON = {"functionCall": {"name": answer.tool_name, "args": answer.tool_args}}
        else:
            part = {"text": answer.text}
        prompt = estimate_tokens(self.prompt_chars(body))
        output = estimate_tokens(answer.size)
        return Response.json(
            {
                "candidates": [
                    {
                        "content": {"parts": [part], "role": "model"},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": prompt,
                    "candidatesTokenCount": output,
                    "totalTokenCount": prompt + output,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
                },
                "modelVersion": model,
                "responseId": uuid.uuid4().hex[:22],
            }
        )

    def user_texts(self, request: JSON) -> list[str]:
        turns = [c for c in request.get("contents", []) if c.get("role", "user") == "user"]
        texts = [_parts_text(turn.get("parts", [])) for turn in turns]
        return [text for text in texts if text]

    def system_text(self, request: JSON) -> str:
        return _parts_text((request.get("systemInstruction") or {}).get("parts", []))

    def tool_names(self, request: JSON) -> list[str]:
        return [
            declaration["name"]
            for tool in request.get("tools") or []
            for declaration in tool.get("functionDeclarations") or []
        ]

    def prompt_chars(self, request: JSON) -> int:
        tools = request.get("tools")
        chars = len(self.system_text(request)) + (len(json.dumps(tools)) if tools else 0)
        for content in request.get("contents", []):
            for part in content.get("parts", []):
                chars += len(part["text"]) if "text" in part else len(json.dumps(part))
        return chars


# --- OpenAI (Chat Completions) -----------------------------------------------------

OPENAI_ERROR = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached. Please try again later."),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
}


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = content or []
    return "\n".join(p["text"] for p in parts if isinstance(p, dict) and p.get("type") == "text")


class FakeOpenAI(FakeLLM):
    """`POST /v1/chat/completions` and `POST /v1/audio/transcriptions` (multipart),
    with `Authorization: Bearer <key>`."""

    transcript = "Hello, I would like to return my shoes."

    def __init__(self, api_key: str = "test-key") -> None:
        super().__init__(api_key)
        self._transcriptions: list[Request] = []

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def transcriptions(self) -> list[Request]:
        with self.lock:
            return list(self._transcriptions)

    def handle(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/v1/audio/transcriptions":
            with self.lock:
                self._transcriptions.append(request)
            if denied := self.check_key(request):
                return denied
            if b'name="file"' not in request.body or b'name="model"' not in request.body:
                return self.error(400, "file and model are required")
            return Response.json({"text": self.transcript})
        return super().handle(request)

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self._transcriptions = []

    def response_schema(self, body: JSON) -> JSON | None:
        response_format = body.get("response_format") or {}
        if response_format.get("type") != "json_schema":
            return None
        return (response_format.get("json_schema") or {}).get("schema") or {}

    def route(self, request: Request) -> str | None:
        if request.method == "POST" and request.path == "/v1/chat/completions":
            return str((request.json() or {}).get("model", "unknown"))
        return None

    def check_key(self, request: Request) -> Response | None:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return self.error(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                code=None,
            )
        if auth[7:].strip() != self.api_key:
            return self.error(401, f"Incorrect API key provided: {auth[7:11]}****.")
        return None

    def error(self, status: int, message: str | None, **overrides: Any) -> Response:
        kind, code, text = OPENAI_ERROR.get(status, ("server_error", None, "Server error."))
        payload = {"message": message or text, "type": kind, "param": None, "code": code}
        return Response.json({"error": {**payload, **overrides}}, status=status)

    def answer(self, model: str, body: JSON, answer: Answer) -> Response:
        message: JSON = {"role": "assistant", "content": answer.text, "refusal": None}
        finish = "stop"
        if answer.tool_name is not None:
            function = {"name": answer.tool_name, "arguments": json.dumps(answer.tool_args)}
            call_id = f"call_{uuid.uuid4().hex[:24]}"
            message["tool_calls"] = [{"id": call_id, "type": "function", "function": function}]
            finish = "tool_calls"
        prompt = estimate_tokens(self.prompt_chars(body))
        output = estimate_tokens(answer.size)
        return Response.json(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": output,
                    "total_tokens": prompt + output,
                },
                "system_fingerprint": "fp_fake",
            }
        )

    def user_texts(self, request: JSON) -> list[str]:
        turns = [m for m in request.get("messages", []) if m.get("role") == "user"]
        texts = [_content_text(turn.get("content")) for turn in turns]
        return [text for text in texts if text]

    def system_text(self, request: JSON) -> str:
        return "\n".join(
            _content_text(m.get("content"))
            for m in request.get("messages", [])
            if m.get("role") in ("system", "developer")
        )

    def tool_names(self, request: JSON) -> list[str]:
        return [tool["function"]["name"] for tool in request.get("tools") or []]

    def prompt_chars(self, request: JSON) -> int:
        tools = request.get("tools")
        chars = len(json.dumps(tools)) if tools else 0
        for message in request.get("messages", []):
            chars += len(_content_text(message.get("content")))
            if message.get("tool_calls"):
                chars += len(json.dumps(message["tool_calls"]))
        return chars
