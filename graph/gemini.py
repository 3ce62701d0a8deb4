"""LangChain's Gemini chat model without the costs of every call that grow with the history
(imported on first use, as the SDK takes about a second to import).

- LangChain keeps bound tools as OpenAI-style schemas and converts them to Gemini's on each
  call (about 1.5 ms of CPU for the customer's tools): here they are converted once.
- google-genai validates a request's contents again (pydantic, through its union of content
  shapes) and then converts them to the wire format field by field with a path lookup that
  iterates every pydantic field: together about 0.25 ms per message, 10 ms for a 40-message
  history. LangChain has built valid `types.Content` objects already, so `_wire_contents`
  writes them as the SDK's Gemini API converter does, and the rest of the request (the
  config, the URL, the response) goes through the SDK's own functions. Same request on the
  wire: tests/unit/test_gemini_request.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from google.genai import _common as common
from google.genai import _extra_utils, models, types
from google.genai.errors import ClientError, ServerError
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import Runnable, RunnableBinding
from langchain_google_genai import ChatGoogleGenerativeAI
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
        request = self._prepare_request(
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


def generate_content(
    api: Any,
    *,
    model: str,
    contents: Sequence[types.Content],
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
    api: Any, model: str, contents: Sequence[types.Content], config: Any
) -> types.GenerateContentResponse:
    """google-genai's `Models._generate_content` (Gemini API), contents converted directly."""
    parameters = types._GenerateContentParameters(model=model, config=config)
    converted = models._GenerateContentParameters_to_mldev(api, parameters, None, parameters)
    converted.pop("config", None)
    rest = _json_ready(converted)
    path = "{model}:generateContent".format_map(rest["_url"])
    body = {"_url": rest.pop("_url"), "contents": _wire_contents(contents), **rest}
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


def _wire_contents(contents: Sequence[types.Content]) -> list[dict[str, Any]]:
    return [_wire_content(content) for content in contents]


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
