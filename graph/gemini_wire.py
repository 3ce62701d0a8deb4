"""Requests to the Gemini API written as google-genai writes them (graph.gemini's module
docstring says why): tests/unit/test_gemini_wire.py and test_gemini_request.py."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from google.genai import _common as common
from google.genai import _transformers as transformers
from google.genai import models, types

# Part fields and their Gemini API names, as google-genai's _Part_to_mldev writes them
# (values as they are; convert_to_dict dumps nested objects later). A part with any other
# field set goes through that converter itself.
_PART_FIELDS = {
    "text": "text",
    "thought": "thought",
    "thought_signature": "thoughtSignature",
    "inline_data": "inlineData",
    "file_data": "fileData",
    "function_response": "functionResponse",
}


# Config fields the SDK's Gemini API converter copies into generationConfig as they are.
_GENERATION_FIELDS = {
    "temperature": "temperature",
    "top_p": "topP",
    "top_k": "topK",
    "candidate_count": "candidateCount",
    "max_output_tokens": "maxOutputTokens",
    "stop_sequences": "stopSequences",
    "response_logprobs": "responseLogprobs",
    "logprobs": "logprobs",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
    "seed": "seed",
    "response_mime_type": "responseMimeType",
    "response_modalities": "responseModalities",
    "media_resolution": "mediaResolution",
    "thinking_config": "thinkingConfig",
}
# ... and the fields `wire_request` writes at the request's top level; http_options is
# how the request is sent, not part of it.
_WRITTEN_FIELDS = frozenset(
    {*_GENERATION_FIELDS, "system_instruction", "safety_settings", "tools", "tool_config",
     "labels", "http_options"}
)  # fmt: skip


def wire_request(
    api: Any,
    model: str,
    contents: Sequence[types.Content | dict[str, Any]],
    config: types.GenerateContentConfig | None,
) -> dict[str, Any]:
    """The request's body as the SDK's `_GenerateContentParameters_to_mldev` and JSON
    preparation write it (tests/unit/test_gemini_wire.py)."""
    body: dict[str, Any] = {"_url": {"model": transformers.t_model(api, model)}}
    body["contents"] = _wire_contents(contents)
    if config is None:
        return body
    fields = {name: value for name, value in config.__dict__.items() if value is not None}
    if not fields.keys() <= _WRITTEN_FIELDS:
        return {**body, **_sdk_config(api, model, config)}
    rest: dict[str, Any] = {
        "generationConfig": {
            wire: fields[name] for name, wire in _GENERATION_FIELDS.items() if name in fields
        }
    }
    if "safety_settings" in fields:
        rest["safetySettings"] = [
            models._SafetySetting_to_mldev(s) for s in fields["safety_settings"]
        ]
    if "tool_config" in fields:
        rest["toolConfig"] = models._ToolConfig_to_mldev(fields["tool_config"])
    if "labels" in fields:
        rest["labels"] = fields["labels"]
    body.update(_json_ready(rest))
    if "system_instruction" in fields:
        instruction = transformers.t_content(fields["system_instruction"])
        body["systemInstruction"] = _wire_content(instruction)
    if "tools" in fields:
        body["tools"] = _wire_tools(api, fields["tools"])
    return body


def _sdk_config(api: Any, model: str, config: types.GenerateContentConfig) -> dict[str, Any]:
    """The request's fields but its contents, from the SDK's converter."""
    parameters = types._GenerateContentParameters(model=model, config=config)
    converted = models._GenerateContentParameters_to_mldev(api, parameters, None, parameters)
    converted.pop("config", None)
    converted.pop("_url", None)
    return _json_ready(converted)


# Tools on the wire by the identity of the Tool objects (kept here, so an id is not reused):
# LangChain passes the declarations `bind_tools` made, the same objects on every call.
_TOOLS: dict[tuple[int, ...], tuple[list[Any], list[dict[str, Any]]]] = {}
_TOOLS_KEPT = 64


def _wire_tools(api: Any, tools: list[Any]) -> list[dict[str, Any]]:
    key = tuple(map(id, tools))
    cached = _TOOLS.get(key)
    if cached is None:
        wire = [
            models._Tool_to_mldev(transformers.t_tool(api, tool))
            for tool in transformers.t_tools(api, tools)
        ]
        if len(_TOOLS) >= _TOOLS_KEPT:
            _TOOLS.clear()
        cached = _TOOLS[key] = (list(tools), _json_ready({"tools": wire})["tools"])
    return cached[1]


def _wire_contents(contents: Sequence[types.Content | dict[str, Any]]) -> list[dict[str, Any]]:
    """Contents on the wire; dicts are there already (`_collapse_plain`)."""
    return [c if isinstance(c, dict) else _wire_content(c) for c in contents]


def _wire_content(content: types.Content) -> dict[str, Any]:
    wire: dict[str, Any] = {}
    if content.parts is not None:
        wire["parts"] = [_wire_part(part) for part in content.parts]
    if content.role is not None:
        wire["role"] = content.role
    return wire


def _wire_part(part: types.Part) -> dict[str, Any]:
    """The part as the SDK sends it: its converter's names, then its JSON preparation."""
    wire: dict[str, Any] = {}
    for name, value in part.__dict__.items():
        if value is None:
            continue
        if name == "function_call":
            wire["functionCall"] = _json_ready(models._FunctionCall_to_mldev(value))
        elif name not in _PART_FIELDS:  # the SDK's converter decides (keeps, renames, refuses)
            return _json_ready(models._Part_to_mldev(part))
        elif isinstance(value, str | bool):
            wire[_PART_FIELDS[name]] = value
        elif isinstance(value, bytes):
            wire[_PART_FIELDS[name]] = base64.urlsafe_b64encode(value).decode("ascii")
        else:
            wire[_PART_FIELDS[name]] = _json_ready({"value": value})["value"]
    return wire


def _json_ready(request: dict[str, Any]) -> dict[str, Any]:
    """What the SDK does to a whole request before sending it (pydantic objects to dicts,
    bytes to base64); both steps recurse, so a part at a time gives the same result."""
    return common.encode_unserializable_types(common.convert_to_dict(request))
