"""LangChain's Gemini chat model without the costs of every call that grow with the history
(imported on first use, as the SDK takes about a second to import).

- LangChain keeps bound tools as OpenAI-style schemas and converts them to Gemini's on each
  call (about 1.5 ms of CPU for the customer's tools): here they are converted once.
- LangChain turns every message of the history into google-genai `Part` and `Content`
  objects, whose pydantic validation costs about 25 us a message (20% of a turn at 200
  messages). The usual message, plain text from the customer or the model, becomes the
  same `{"parts": [{"text": ...}], "role": ...}` whatever LangChain would make of it: runs
  of them reach LangChain as one placeholder message each and are written here
  (`_collapse_plain`), the rest goes through LangChain as it is.
- google-genai validates a request's contents again (pydantic, through its union of content
  shapes) and then converts them to the wire format field by field with a path lookup that
  iterates every pydantic field: together about 0.25 ms per message, 10 ms for a 40-message
  history. LangChain has built valid `types.Content` objects already, so `_wire_contents`
  writes them as the SDK's Gemini API converter does, and the rest of the request (the
  config, the URL, the response) goes through the SDK's own functions. Same request on the
  wire: tests/unit/test_gemini_request.py.
- The SDK converts the config the same way on every call (about 0.6 ms, most of it the
  tools' declarations dumped anew): `_wire_request` writes the fields LangChain sets, whose
  SDK converters copy them as they are, and the tools once per list of declarations; any
  other field sends the whole config through the SDK's converter.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from google.genai import _common as common
from google.genai import _extra_utils, models, types
from google.genai import _transformers as transformers
from google.genai.errors import ClientError, ServerError
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import Runnable, RunnableBinding
from langchain_google_genai import ChatGoogleGenerativeAI
from langchain_google_genai._compat import _classify_model_provider
from langchain_google_genai._function_utils import convert_to_genai_function_declarations
from langchain_google_genai.chat_models import (
    _handle_client_error,
    _handle_server_error,
    _response_to_result,
)

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


class GeminiChat(ChatGoogleGenerativeAI):
    def __init__(self, **kwargs: Any) -> None:  # the parent's keyword arguments (aliases)
        super().__init__(**kwargs)

    def bind_tools(
        self, tools: Any, tool_config: Any = None, *, tool_choice: Any = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        bound = super().bind_tools(tools, tool_config, tool_choice=tool_choice, **kwargs)
        if not isinstance(bound, RunnableBinding) or not bound.kwargs.get("tools"):
            return bound
        declarations = convert_to_genai_function_declarations(bound.kwargs["tools"])
        return self.bind(**{**bound.kwargs, "tools": declarations})

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        *,
        cached_content: str | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """The parent's, with the request sent by `generate_content` below."""
        if self.client is None or self.client._api_client.vertexai:
            return super()._generate(
                messages, stop, run_manager, cached_content=cached_content, **kwargs
            )
        request = self._prepare_collapsed(
            messages, stop=stop, cached_content=cached_content or self.cached_content, **kwargs
        )
        try:
            response = generate_content(self.client._api_client, **request)
        except ClientError as e:
            _handle_client_error(e, request)
            raise
        except ServerError as e:
            _handle_server_error(e)
            raise
        return _response_to_result(response)

    def _prepare_collapsed(self, messages: list[BaseMessage], **kwargs: Any) -> dict[str, Any]:
        """LangChain's request, its plain messages written directly (see the module's
        docstring); LangChain's own throughout if a placeholder does not come back as one
        content of its own."""
        if self.convert_system_message_to_human:  # LangChain merges the first two then
            return self._prepare_request(messages, **kwargs)
        collapsed, runs = _collapse_plain(messages)
        request = self._prepare_request(collapsed, **kwargs)
        contents = _expand_runs(request["contents"], runs)
        if contents is None:
            return self._prepare_request(messages, **kwargs)
        return {**request, "contents": contents}


# A placeholder's text: a NUL never reaches us in a WhatsApp message or a model's reply.
_RUN_KEY = "\x00switchboard-run-"


def _plain_role(message: BaseMessage) -> str | None:
    """The role of a message LangChain would turn into one text part and nothing else."""
    if not isinstance(message.content, str) or not message.content:
        return None
    if type(message) is HumanMessage:
        return "user"
    if type(message) is AIMessage and not (
        message.tool_calls
        or message.invalid_tool_calls
        or message.additional_kwargs.get("function_call")
        or message.response_metadata.get("output_version") == "v1"
        or _classify_model_provider(message.response_metadata.get("model_provider")) == "foreign"
    ):
        return "model"
    return None


def _collapse_plain(
    messages: list[BaseMessage],
) -> tuple[list[BaseMessage], dict[str, list[dict[str, Any]]]]:
    """The messages with each run of plain ones replaced by placeholders, and the wire
    contents each placeholder stands for. A run becomes a user placeholder up to its last
    customer message and a model placeholder for what follows it, so that what LangChain
    looks at around them stays true: the role the history ends on (no prefill) and where
    the last customer text is (Gemini 3's thought signatures)."""
    collapsed: list[BaseMessage] = []
    runs: dict[str, list[dict[str, Any]]] = {}
    run: list[tuple[str, dict[str, Any]]] = []

    def close() -> None:
        last_user = max((i for i, (role, _) in enumerate(run) if role == "user"), default=-1)
        groups = ((run[: last_user + 1], HumanMessage), (run[last_user + 1 :], AIMessage))
        for group, kind in groups:
            if group:
                key = f"{_RUN_KEY}{len(runs)}"
                runs[key] = [wire for _, wire in group]
                collapsed.append(kind(key))
        run.clear()

    for message in messages:
        role = _plain_role(message)
        if role is None:
            close()
            collapsed.append(message)
        else:
            run.append((role, {"parts": [{"text": message.content}], "role": role}))
    close()
    return collapsed, runs


def _expand_runs(
    contents: Sequence[types.Content], runs: dict[str, list[dict[str, Any]]]
) -> list[types.Content | dict[str, Any]] | None:
    """The contents with each placeholder replaced by its run; None unless every
    placeholder came back once, alone in its content, and no other text holds one."""
    expanded: list[types.Content | dict[str, Any]] = []
    seen: set[str] = set()
    for content in contents:
        parts = content.parts or []
        texts = [part.text for part in parts if part.text and _RUN_KEY in part.text]
        if not texts:
            expanded.append(content)
            continue
        key = texts[0]
        if len(parts) != 1 or key not in runs or key in seen:
            return None
        seen.add(key)
        expanded.extend(runs[key])
    return expanded if len(seen) == len(runs) else None


def generate_content(
    api: Any,
    *,
    model: str,
    contents: Sequence[types.Content | dict[str, Any]],
    config: types.GenerateContentConfig | None = None,
) -> types.GenerateContentResponse:
    """google-genai's `Models.generate_content` for LangChain's requests on the Gemini API
    (no automatic function calling: LangChain's tools are declarations), following
    continuation tokens as it does."""
    continuing = _extra_utils.should_enable_automatic_continuation(config, default_enabled=True)
    token: bytes | None = None
    responses: list[types.GenerateContentResponse] = []
    while not responses or (continuing and token):
        hop = _extra_utils.prepare_continuation_config(config, token)
        responses.append(_generate_once(api, model, contents, hop))
        token = _extra_utils.should_continue_generation(responses[-1])
    return _extra_utils.merge_continuation_responses(responses, config=config)


def _generate_once(
    api: Any, model: str, contents: Sequence[types.Content | dict[str, Any]], config: Any
) -> types.GenerateContentResponse:
    """google-genai's `Models._generate_content` (Gemini API), the body written directly."""
    parameters = types._GenerateContentParameters(model=model, config=config)
    body = _wire_request(api, model, contents, parameters.config)
    path = "{model}:generateContent".format_map(body["_url"])
    http_options = parameters.config.http_options if parameters.config is not None else None
    response = api.request("post", path, body, http_options)
    raw = {} if not response.body else json.loads(response.body)
    raw = models._GenerateContentResponse_from_mldev(raw, None, parameters)
    config_of = parameters.config
    result = types.GenerateContentResponse._from_response(
        response=raw,
        kwargs={
            "config": {
                "response_schema": getattr(config_of, "response_schema", None),
                "response_json_schema": getattr(config_of, "response_json_schema", None),
                "include_all_fields": getattr(config_of, "include_all_fields", None),
            }
        }
        if config_of is not None
        else {},
    )
    result.sdk_http_response = types.HttpResponse(headers=response.headers)
    api._verify_response(result)
    return result


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
# ... and the fields `_wire_request` writes at the request's top level; http_options is
# how the request is sent, not part of it.
_WRITTEN_FIELDS = frozenset(
    {*_GENERATION_FIELDS, "system_instruction", "safety_settings", "tools", "tool_config",
     "labels", "http_options"}
)  # fmt: skip


def _wire_request(
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
