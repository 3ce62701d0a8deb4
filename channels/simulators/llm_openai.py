"""A simulator of OpenAI's Chat Completions and audio transcriptions APIs, scripted as
`llm.LLMSimulator` describes."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from channels.simulators.http import Request, Response
from channels.simulators.llm import JSON, Answer, LLMSimulator, estimate_tokens

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


REASONING_MODEL = re.compile(r"^(o\d|gpt-5(?!.*chat))")


def reasoning_efforts(model: str) -> tuple[str, ...]:
    """The `reasoning_effort` values a reasoning model takes (none for other models)."""
    if not REASONING_MODEL.match(model):
        return ()
    if model.startswith("o"):
        return ("low", "medium", "high")
    if re.match(r"^gpt-5\.\d", model):
        return ("none", "low", "medium", "high")
    return ("minimal", "low", "medium", "high")


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = content or []
    return "\n".join(p["text"] for p in parts if isinstance(p, dict) and p.get("type") == "text")


class OpenAISimulator(LLMSimulator):
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

    def model_path(self, path: str) -> str | None:
        prefix = "/v1/models/"
        return path[len(prefix) :] if path.startswith(prefix) and len(path) > len(prefix) else None

    def model_description(self, model: str) -> Response:
        return Response.json({"id": model, "object": "model", "created": 1744316542,
                              "owned_by": "system"})  # fmt: skip

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

    def refuse(self, model: str, body: JSON) -> Response | None:
        """As OpenAI answers reasoning settings a model does not take, and a temperature
        that a reasoning model does not."""
        efforts = reasoning_efforts(model)
        effort, temperature = body.get("reasoning_effort"), body.get("temperature")
        if effort is not None and not efforts:
            message = "Unsupported parameter: 'reasoning_effort' is not supported with this model."
            return self.error(400, message, param="reasoning_effort", code="unsupported_parameter")
        if effort is not None and effort not in efforts:
            message = (
                f"Unsupported value: 'reasoning_effort' does not support '{effort}' with this "
                "model."
            )
            return self.error(400, message, param="reasoning_effort", code="unsupported_value")
        if efforts and effort != "none" and temperature not in (None, 1):
            message = (
                f"Unsupported value: 'temperature' does not support {temperature} with this "
                "model. Only the default (1) value is supported."
            )
            return self.error(400, message, param="temperature", code="unsupported_value")
        return None

    def error(self, status: int, message: str | None, **overrides: Any) -> Response:
        kind, code, text = OPENAI_ERROR.get(status, ("server_error", None, "Server error."))
        payload = {"message": message or text, "type": kind, "param": None, "code": code}
        return Response.json({"error": {**payload, **overrides}}, status=status)

    def answer(self, model: str, body: JSON, answer: Answer) -> Response:
        message: JSON = {"role": "assistant", "content": answer.text, "refusal": None}
        finish = "stop" if answer.finish in (None, "STOP") else "content_filter"
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

    def tool_outputs(self, request: JSON) -> list[str]:
        return [
            _content_text(m.get("content")) for m in request.get("messages", [])
            if m.get("role") == "tool"
        ]  # fmt: skip

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
