"""graph.gemini reads a Gemini answer into the very object google-genai makes of it, and so
into the same reply."""

import base64
import copy
from typing import Any

import pytest
from google.genai import models, types
from langchain_google_genai.chat_models import _response_to_result

from graph.gemini_response import plain_response, read_response

SIGNATURES = "__gemini_function_call_thought_signatures__"
SIGNATURE = base64.b64encode(b"\xfb\xff a thought signature").decode()
USAGE = {
    "promptTokenCount": 1200,
    "candidatesTokenCount": 30,
    "totalTokenCount": 1290,
    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1200}],
}
THINKING_USAGE = {
    **USAGE,
    "thoughtsTokenCount": 60,
    "cachedContentTokenCount": 800,
    "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 800}],
    "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 30}],
}


def _answer(*parts: dict[str, Any], usage: dict[str, Any] = USAGE, **candidate: Any) -> dict:
    return {
        "candidates": [
            {"content": {"parts": list(parts), "role": "model"}, "finishReason": "STOP",
             "index": 0, **candidate}
        ],
        "usageMetadata": usage,
        "modelVersion": "gemini-2.5-flash",
        "responseId": "mT8kabcdEFGhijk",
    }  # fmt: skip


PLAIN = {
    "text": _answer({"text": "Yes, we ship to Spain in 3 days."}),
    "text in two parts": _answer({"text": "Yes, "}, {"text": "in 3 days."}, avgLogprobs=-0.2),
    "thinking": _answer(
        {"text": "The customer asks about shipping.", "thought": True},
        {"text": "Yes, in 3 days.", "thoughtSignature": SIGNATURE},
        usage=THINKING_USAGE,
    ),
    "function call": _answer(
        {
            "functionCall": {
                "name": "search_products",
                "args": {"query": "trail", "filters": {"max_price": 120}},
            },
            "thoughtSignature": SIGNATURE,
        },
    ),  # fmt: skip
    "two function calls with ids": _answer(
        {"functionCall": {"id": "a", "name": "view_cart", "args": {}}},
        {"functionCall": {"id": "b", "name": "lookup_order", "args": {"number": "1001"}}},
    ),
    "no parts": {
        "candidates": [{"content": {"role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": USAGE,
        "modelVersion": "gemini-2.5-flash",
    },
    "cut at the token limit": _answer({"text": "Yes, we"}, finishReason="MAX_TOKENS"),
    "empty candidates": {"candidates": [], "usageMetadata": USAGE, "modelVersion": "m"},
    "no candidates": {"usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12}},
    "a null field": {**_answer({"text": "Hi"}), "responseId": None},
    "nothing": {},
}
SDKS = {  # what only the SDK's path reads
    "safety block": {
        "candidates": [
            {
                "finishReason": "SAFETY",
                "index": 0,
                "safetyRatings": [
                    {
                        "category": "HARM_CATEGORY_HARASSMENT",
                        "probability": "HIGH",
                        "blocked": True,
                    },
                    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
                ],
            }
        ],
        "usageMetadata": USAGE,
        "modelVersion": "gemini-2.5-flash",
    },  # fmt: skip
    "prompt blocked": {
        "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
        "usageMetadata": USAGE,
        "modelVersion": "gemini-2.5-flash",
    },
    "a field the SDK does not know": _answer({"text": "Hi", "newField": 1}),
    "a candidate field of its own": _answer({"text": "Hi"}, citationMetadata={}),
    "usage detail the SDK drops": _answer(
        {"text": "Hi"}, usage={**USAGE, "promptTokensDetails": [{"tokenCount": 1, "x": 2}]}
    ),
}
PARAMETERS = types._GenerateContentParameters(
    model="gemini-2.5-flash", config=types.GenerateContentConfig(temperature=0.3)
)


def _sdks(raw: dict[str, Any]) -> types.GenerateContentResponse:
    """google-genai's Models._generate_content, from the JSON on."""
    converted = models._GenerateContentResponse_from_mldev(raw, None, PARAMETERS)
    config = {"response_schema": None, "response_json_schema": None, "include_all_fields": None}
    return types.GenerateContentResponse._from_response(
        response=converted, kwargs={"config": config}
    )


def _reply(response: types.GenerateContentResponse) -> dict[str, Any]:
    """The message, tool call ids (uuid4) replaced by their position."""
    message = _response_to_result(response).generations[0].message
    position = {call["id"]: i for i, call in enumerate(message.tool_calls)}
    calls = [{**call, "id": position[call["id"]]} for call in message.tool_calls]
    extra = dict(message.additional_kwargs)
    if signatures := extra.get(SIGNATURES):
        extra[SIGNATURES] = {position[key]: value for key, value in signatures.items()}
    return {"content": message.content, "calls": calls, "usage": message.usage_metadata,
            "metadata": message.response_metadata, "extra": extra}  # fmt: skip


@pytest.mark.parametrize("raw", [*PLAIN.values(), *SDKS.values()], ids=[*PLAIN, *SDKS])
def test_the_answer_is_read_into_the_sdks_object_and_reply(raw: dict[str, Any]) -> None:
    ours = read_response(copy.deepcopy(raw), PARAMETERS)
    theirs = _sdks(copy.deepcopy(raw))

    assert ours == theirs
    assert ours.model_dump(exclude_unset=True) == theirs.model_dump(exclude_unset=True)
    assert _reply(ours) == _reply(theirs)


@pytest.mark.parametrize("raw", PLAIN.values(), ids=PLAIN)
def test_plain_answers_skip_the_sdks_walks(raw: dict[str, Any]) -> None:
    assert plain_response(raw) is not None


@pytest.mark.parametrize("raw", SDKS.values(), ids=SDKS)
def test_other_answers_take_the_sdks_path(raw: dict[str, Any]) -> None:
    assert plain_response(raw) is None


def test_a_response_schema_takes_the_sdks_path(monkeypatch: pytest.MonkeyPatch) -> None:
    config = types.GenerateContentConfig(
        response_mime_type="application/json",
        response_json_schema={"type": "object", "properties": {"answer": {"type": "string"}}},
    )
    parameters = types._GenerateContentParameters(model="gemini-2.5-flash", config=config)
    monkeypatch.setattr("graph.gemini_response.plain_response", None)  # would fail if called

    response = read_response(_answer({"text": '{"answer": "yes"}'}), parameters)

    assert response.parsed == {"answer": "yes"}
