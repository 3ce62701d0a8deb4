"""Gemini API answers made into google-genai's response object with less of the SDK's work.

For every response the SDK renames the top-level and candidate fields
(`_GenerateContentResponse_from_mldev`), then walks the whole answer dropping fields its
models do not know (`_remove_extra_fields`, which looks every field's alias up anew: about
0.2 ms, twice what the validation itself costs), then validates it. An answer made only of
the fields below needs neither walk: `plain_response` renames them as the SDK does and the
SDK's own validation does the rest. Anything else takes the SDK's path.
Same object: tests/unit/test_gemini_response.py.
"""

from __future__ import annotations

from typing import Any

from google.genai import models, types

# The fields a plain answer may have at each level, as the Gemini API names them; the first
# two levels with the names the SDK gives them (its _from_mldev converters), the deeper ones
# are validated by their API names.
_RESPONSE = {
    "candidates": "candidates",
    "usageMetadata": "usage_metadata",
    "modelVersion": "model_version",
    "responseId": "response_id",
}
_CANDIDATE = {
    "content": "content",
    "finishReason": "finish_reason",
    "index": "index",
    "avgLogprobs": "avg_logprobs",
}
_CONTENT = frozenset({"parts", "role"})
_PART = frozenset({"text", "thought", "thoughtSignature", "functionCall"})
_FUNCTION_CALL = frozenset({"name", "args", "id"})
_USAGE_DETAILS = frozenset(
    {"promptTokensDetails", "candidatesTokensDetails", "cacheTokensDetails",
     "toolUsePromptTokensDetails"}
)  # fmt: skip
_USAGE = _USAGE_DETAILS | {
    "promptTokenCount", "candidatesTokenCount", "totalTokenCount", "thoughtsTokenCount",
    "cachedContentTokenCount", "toolUsePromptTokenCount", "trafficType",
}  # fmt: skip
_MODALITY_COUNT = frozenset({"modality", "tokenCount"})


def plain_response(raw: Any) -> dict[str, Any] | None:
    """The answer as the SDK hands it to `GenerateContentResponse.model_validate` (its
    fields renamed, None values left out, nothing to drop); None unless every field at
    every level is one of the above."""
    if not isinstance(raw, dict) or not raw.keys() <= _RESPONSE.keys():
        return None
    candidates = raw.get("candidates")
    if candidates is not None and not (
        isinstance(candidates, list) and all(map(_plain_candidate, candidates))
    ):
        return None
    usage = raw.get("usageMetadata")
    if usage is not None and not _plain_usage(usage):
        return None
    response = _renamed(raw, _RESPONSE)
    if candidates is not None:
        response["candidates"] = [_renamed(c, _CANDIDATE) for c in candidates]
    return response


def _renamed(fields: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {names[key]: value for key, value in fields.items() if value is not None}


def _plain_candidate(candidate: Any) -> bool:
    if not isinstance(candidate, dict) or not candidate.keys() <= _CANDIDATE.keys():
        return False
    content = candidate.get("content")
    return content is None or (
        isinstance(content, dict)
        and content.keys() <= _CONTENT
        and _all_of(content.get("parts"), _plain_part)
    )


def _plain_part(part: dict[str, Any]) -> bool:
    call = part.get("functionCall")
    return part.keys() <= _PART and (
        call is None or (isinstance(call, dict) and call.keys() <= _FUNCTION_CALL)
    )


def _plain_usage(usage: Any) -> bool:
    return (
        isinstance(usage, dict)
        and usage.keys() <= _USAGE
        and all(
            _all_of(usage.get(name), lambda count: count.keys() <= _MODALITY_COUNT)
            for name in _USAGE_DETAILS
        )
    )


def _all_of(items: Any, plain: Any) -> bool:
    """Whether `items` is absent or a list of dicts each `plain`."""
    if items is None:
        return True
    return isinstance(items, list) and all(isinstance(i, dict) and plain(i) for i in items)


def read_response(raw: Any, parameters: Any) -> types.GenerateContentResponse:
    """The SDK's response object, as `Models._generate_content` makes it; a plain answer
    (`plain_response`) without its renaming and pruning walks."""
    config = parameters.config
    schema = {
        "response_schema": getattr(config, "response_schema", None),
        "response_json_schema": getattr(config, "response_json_schema", None),
        "include_all_fields": getattr(config, "include_all_fields", None),
    }
    plain = plain_response(raw) if not any(schema.values()) else None
    if plain is not None:
        return types.GenerateContentResponse.model_validate(plain)
    raw = models._GenerateContentResponse_from_mldev(raw, None, parameters)
    return types.GenerateContentResponse._from_response(
        response=raw, kwargs={"config": schema} if config is not None else {}
    )
