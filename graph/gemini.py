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
  history. LangChain has built valid `types.Content` objects already, so graph.gemini_wire
  writes them as the SDK's Gemini API converter does, and the rest of the request (the
  config, the URL, the response) goes through the SDK's own functions. Same request on the
  wire: tests/unit/test_gemini_request.py.
- The SDK converts the config the same way on every call (about 0.6 ms, most of it the
  tools' declarations dumped anew): `wire_request` writes the fields LangChain sets, whose
  SDK converters copy them as they are, and the tools once per list of declarations; any
  other field sends the whole config through the SDK's converter.
- LangChain's `_prepare_request` costs about 0.5 ms a call whatever the history, most of it
  the config (pydantic objects anew). A history of plain messages after a system prompt of
  text (`_prepare_plain`) is written without it: its contents are the runs, and the config
  is LangChain's, made once per set of call arguments (tests/unit/test_gemini_wire.py).
- The SDK reads every answer through two walks before validating it; a plain answer skips
  them (graph.gemini_response).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from typing import Any

from google.genai import _extra_utils, types
from google.genai.errors import ClientError, ServerError
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
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
from pydantic import PrivateAttr

from graph.gemini_response import read_response
from graph.gemini_wire import wire_request


class GeminiChat(ChatGoogleGenerativeAI):
    # LangChain's configs by call arguments (`_config_for`); the model's fields never change
    _configs: dict[tuple[Any, ...], tuple[dict[str, Any], types.GenerateContentConfig]] = (
        PrivateAttr(default_factory=dict)
    )

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

    # LangChain looks `_generate`'s parameters up on every call (inspect.signature, about
    # 40 us); a function's __signature__ is what inspect then returns.
    _generate.__signature__ = inspect.signature(_generate)  # type: ignore[attr-defined]

    def _prepare_collapsed(self, messages: list[BaseMessage], **kwargs: Any) -> dict[str, Any]:
        """LangChain's request, its plain messages written directly (see the module's
        docstring); LangChain's own throughout if a placeholder does not come back as one
        content of its own."""
        if self.convert_system_message_to_human:  # LangChain merges the first two then
            return self._prepare_request(messages, **kwargs)
        collapsed, runs = _collapse_plain(messages)
        plain = self._prepare_plain(collapsed, runs, kwargs)
        if plain is not None:
            return plain
        request = self._prepare_request(collapsed, **kwargs)
        contents = _expand_runs(request["contents"], runs)
        if contents is None:
            return self._prepare_request(messages, **kwargs)
        return {**request, "contents": contents}

    def _prepare_plain(
        self, collapsed: list[BaseMessage], runs: dict[str, list[dict[str, Any]]],
        kwargs: dict[str, Any],
    ) -> dict[str, Any] | None:  # fmt: skip
        """LangChain's request for a history of plain messages after at most a system prompt
        of text, without LangChain: the contents are the runs, the system instruction the
        `Content` LangChain makes of a text, and the rest of the config, which does not
        depend on the history, LangChain's for the same arguments (`_config_for`). None for
        any other history, and for one ending on the model's text (LangChain refuses it
        for some models)."""
        system = collapsed[0] if collapsed and isinstance(collapsed[0], SystemMessage) else None
        if system is not None and not (isinstance(system.content, str) and system.content):
            return None
        if len(collapsed) - (system is not None) != len(runs) or not runs:
            return None  # a message that is not plain: LangChain writes it
        contents = [content for run in runs.values() for content in run]
        config = self._config_for(kwargs) if contents[-1]["role"] == "user" else None
        if config is None:
            return None
        if system is not None:
            part = types.Part.model_construct(text=system.content)
            instruction = types.Content.model_construct(parts=[part])
            config = config.model_copy(update={"system_instruction": instruction})
        return {"model": self.model, "contents": contents, "config": config}

    def _config_for(self, kwargs: dict[str, Any]) -> types.GenerateContentConfig | None:
        """LangChain's config for a call's arguments, kept by their values (objects, such as
        the tools' declarations, by identity); None for arguments of other kinds."""
        key = _arguments_key(kwargs)
        if key is None:
            return None
        kept = self._configs.get(key)
        if kept is None:
            request = self._prepare_request([HumanMessage(_RUN_KEY)], **kwargs)
            if len(self._configs) >= _CONFIGS_KEPT:
                self._configs.clear()
            kept = self._configs[key] = (kwargs, request["config"])  # kwargs: ids stay theirs
        return kept[1]


# A placeholder's text: a NUL never reaches us in a WhatsApp message or a model's reply.
_RUN_KEY = "\x00switchboard-run-"
# Configs kept per model: one per distinct call arguments (the timeout among them).
_CONFIGS_KEPT = 16


def _arguments_key(kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """A call's arguments as a key: values with their type, lists item by item, the SDK's
    tools by identity; None if any argument is of another kind."""
    try:
        return tuple((name, _value_key(kwargs[name])) for name in sorted(kwargs))
    except TypeError:
        return None


def _value_key(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return type(value), value
    if isinstance(value, list | tuple):
        return type(value), tuple(map(_value_key, value))
    if isinstance(value, types.Tool):
        return types.Tool, id(value)
    raise TypeError(type(value))


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
    body = wire_request(api, model, contents, parameters.config)
    path = "{model}:generateContent".format_map(body["_url"])
    http_options = parameters.config.http_options if parameters.config is not None else None
    response = api.request("post", path, body, http_options)
    raw = {} if not response.body else json.loads(response.body)
    result = read_response(raw, parameters)
    result.sdk_http_response = types.HttpResponse(headers=response.headers)
    api._verify_response(result)
    return result
