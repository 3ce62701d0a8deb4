"""A simulator of the Gemini API (generativelanguage.googleapis.com, v1beta):
`POST /v1beta/models/{model}:generateContent`, scripted as `llm.LLMSimulator` describes."""

from __future__ import annotations

import json
import re
import uuid

from channels.simulators.http import Request, Response
from channels.simulators.llm import JSON, Answer, LLMSimulator, estimate_tokens

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
MODEL_PATH = re.compile(r"^/v1beta/models/(?P<model>[^/:]+)$")


# Thinking as the API takes it: Gemini 2.5 budgets (lowest, highest, 0 turns it off) and
# Gemini 3 levels; older models do not think and refuse a thinking config.
THINKING_BUDGETS = {
    "gemini-2.5-pro": (128, 32768, False),
    "gemini-2.5-flash-lite": (512, 24576, True),
    "gemini-2.5-flash": (1, 24576, True),
}
THINKING_LEVELS = {
    "gemini-3-pro": {"low", "high"},
    "gemini-3": {"minimal", "low", "medium", "high"},
}


def thinking_error(model: str, config: JSON) -> str | None:
    """The API's complaint about a `thinkingConfig` for `model`, None when it takes it. Field
    names come in either JSON spelling (google-genai sends snake_case)."""
    budget = config.get("thinkingBudget", config.get("thinking_budget"))
    level = config.get("thinkingLevel", config.get("thinking_level"))
    if budget is not None and level is not None:
        return "You can only set one of thinking budget and thinking level."
    family = next((name for name in THINKING_BUDGETS if model.startswith(name)), None)
    if level is not None:
        levels = next((v for k, v in THINKING_LEVELS.items() if model.startswith(k)), None)
        if levels is None:
            return "Thinking level is not supported for this model."
        if str(level).lower() not in levels:
            return f"Thinking level {level} is not supported for this model."
    elif budget is not None and family is not None:
        lowest, highest, can_stop = THINKING_BUDGETS[family]
        if budget not in (-1, 0 if can_stop else -1) and not lowest <= budget <= highest:
            return (
                f"The thinking budget {budget} is invalid. Please choose a value between "
                f"{0 if can_stop else lowest} and {highest}."
            )
    elif budget is not None and not model.startswith("gemini-3"):
        return "Thinking is not enabled for this model."
    return None


def _parts_text(parts: list[JSON]) -> str:
    return "\n".join(part["text"] for part in parts if "text" in part and not part.get("thought"))


def _candidate(answer: Answer) -> JSON:
    if answer.finish is not None:  # an empty answer
        if answer.finish == "STOP":  # nothing generated: a content with no parts
            return {"content": {"role": "model"}, "finishReason": "STOP", "index": 0}
        return {"finishReason": answer.finish, "index": 0}  # blocked: no content at all
    if answer.tool_name is not None:
        part: JSON = {"functionCall": {"name": answer.tool_name, "args": answer.tool_args}}
    else:
        part = {"text": answer.text}
    return {"content": {"parts": [part], "role": "model"}, "finishReason": "STOP", "index": 0}


class GeminiSimulator(LLMSimulator):
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

    def model_path(self, path: str) -> str | None:
        match = MODEL_PATH.match(path)
        return match["model"] if match else None

    def model_description(self, model: str) -> Response:
        return Response.json(
            {
                "name": f"models/{model}",
                "version": "001",
                "displayName": model,
                "inputTokenLimit": 1048576,
                "outputTokenLimit": 65536,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            }
        )

    def check_key(self, request: Request) -> Response | None:
        in_query = next(iter(request.query.get("key") or []), None)
        key = request.headers.get("x-goog-api-key") or in_query
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

    def refuse(self, model: str, body: JSON) -> Response | None:
        config = (body.get("generationConfig") or {}).get("thinkingConfig")
        problem = thinking_error(model, config) if config else None
        return self.error(400, problem) if problem else None

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
        prompt = estimate_tokens(self.prompt_chars(body))
        output = estimate_tokens(answer.size)
        return Response.json(
            {
                "candidates": [_candidate(answer)],
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

    @staticmethod
    def thinking(request: JSON) -> JSON | None:
        """A request's thinking config as {"budget": int | None, "level": str | None}
        (lower case), None without one."""
        config = (request.get("generationConfig") or {}).get("thinkingConfig")
        if config is None:
            return None
        level = config.get("thinkingLevel", config.get("thinking_level"))
        return {
            "budget": config.get("thinkingBudget", config.get("thinking_budget")),
            "level": str(level).lower() if level is not None else None,
        }

    def user_texts(self, request: JSON) -> list[str]:
        turns = [c for c in request.get("contents", []) if c.get("role", "user") == "user"]
        texts = [_parts_text(turn.get("parts", [])) for turn in turns]
        return [text for text in texts if text]

    def system_text(self, request: JSON) -> str:
        return _parts_text((request.get("systemInstruction") or {}).get("parts", []))

    def tool_outputs(self, request: JSON) -> list[str]:
        """Each tool's text; a tool that returned a JSON object reaches Gemini as that
        object (not wrapped in "output"), and is given back here as JSON text."""
        return [
            _tool_text(part["functionResponse"]["response"])
            for content in request.get("contents", [])
            for part in content.get("parts", [])
            if "functionResponse" in part
        ]

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


def _tool_text(response: JSON) -> str:
    if set(response) == {"output"}:
        return str(response["output"])
    return json.dumps(response, ensure_ascii=False)
