"""graph.gemini writes a request's config as google-genai's Gemini API converter does, and
makes LangChain's request for a plain history as LangChain makes it."""

from typing import Any

import pytest
from google.genai import Client, models, types
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableBinding

from graph import gemini_wire
from graph.gemini import GeminiChat, _collapse_plain
from graph.gemini_wire import _json_ready, wire_request
from tests.unit.test_gemini_request import HISTORY
from tools import tools_for

CONTENTS = [types.Content(role="user", parts=[types.Part(text="hello")])]
FUNCTION = types.FunctionDeclaration(
    name="search_products",
    description="Search the catalogue.",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={"query": types.Schema(type=types.Type.STRING, description="words")},
        required=["query"],
    ),
)
TOOLS = [types.Tool(function_declarations=[FUNCTION])]
CONFIGS = {
    "every field written directly": types.GenerateContentConfig(
        system_instruction=types.Content(parts=[types.Part(text="You answer for a shop.")]),
        temperature=0.3,
        top_p=0.9,
        top_k=40,
        candidate_count=1,
        max_output_tokens=512,
        stop_sequences=["END"],
        presence_penalty=0.1,
        frequency_penalty=0.2,
        seed=7,
        response_mime_type="text/plain",
        response_modalities=["TEXT"],
        media_resolution=types.MediaResolution.MEDIA_RESOLUTION_LOW,
        thinking_config=types.ThinkingConfig(thinking_budget=0),
        safety_settings=[
            types.SafetySetting(
                category=types.HarmCategory.HARM_CATEGORY_HARASSMENT,
                threshold=types.HarmBlockThreshold.BLOCK_ONLY_HIGH,
            )
        ],
        tools=TOOLS,
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.ANY, allowed_function_names=["search_products"]
            )
        ),
        labels={"shop": "1"},
        http_options=types.HttpOptions(timeout=5000),
    ),  # fmt: skip
    "empty": types.GenerateContentConfig(),
    "a field left to the SDK": types.GenerateContentConfig(
        response_mime_type="application/json",
        response_json_schema={"type": "object", "properties": {"text": {"type": "string"}}},
        tools=TOOLS,
    ),
}


def _sdks(api: Any, config: types.GenerateContentConfig | None) -> dict[str, Any]:
    parameters = types._GenerateContentParameters(
        model="gemini-2.5-flash", contents=CONTENTS, config=config
    )
    converted = models._GenerateContentParameters_to_mldev(api, parameters, None, parameters)
    converted.pop("config", None)
    return _json_ready(converted)


@pytest.mark.parametrize("config", [*CONFIGS.values(), None], ids=[*CONFIGS, "none"])
def test_the_body_is_the_sdks(
    config: types.GenerateContentConfig | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Client(api_key="key")._api_client
    expected = _sdks(api, config)
    if config is not CONFIGS["a field left to the SDK"]:  # written without the SDK's converter
        monkeypatch.setattr(gemini_wire, "_sdk_config", None)

    assert wire_request(api, "gemini-2.5-flash", CONTENTS, config) == expected


def test_the_tools_are_written_once_per_list_of_declarations() -> None:
    api = Client(api_key="key")._api_client
    config = CONFIGS["every field written directly"]

    first = wire_request(api, "gemini-2.5-flash", CONTENTS, config)
    again = wire_request(api, "gemini-2.5-flash", CONTENTS, config.model_copy())
    other = types.Tool(function_declarations=[FUNCTION.model_copy(update={"name": "other"})])
    changed = config.model_copy(update={"tools": [other]})

    assert again["tools"] is first["tools"]
    declared = wire_request(api, "gemini-2.5-flash", CONTENTS, changed)["tools"]
    assert declared[0]["functionDeclarations"][0]["name"] == "other"


PLAIN = HISTORY[:7]  # a system prompt, then customers', the model's and an operator's texts
PLAIN_HISTORIES = {"system prompt": PLAIN, "no system prompt": PLAIN[1:], "one": PLAIN[1:2]}
ARGUMENTS = {  # as GeminiChat._generate passes them, the bound tools added
    "timeout": {"stop": None, "cached_content": None, "timeout": 5.0},
    "stop, tool choice": {"stop": ["END"], "cached_content": None, "timeout": 12.5,
                          "tool_choice": "any"},
    "none": {},
}  # fmt: skip
MODELS = {"gemini-2.5-flash": {"thinking_budget": 0}, "gemini-3-flash-preview": {}}


def _model(name: str = "gemini-2.5-flash") -> tuple[GeminiChat, dict[str, Any]]:
    model = GeminiChat(model=name, api_key="key", max_retries=1, temperature=0.3, **MODELS[name])
    bound = model.bind_tools(list(tools_for("customer")))
    assert isinstance(bound, RunnableBinding)
    return model, dict(bound.kwargs)


def _sdk_body(api: Any, request: dict[str, Any]) -> dict[str, Any]:
    parameters = types._GenerateContentParameters(**request)
    converted = models._GenerateContentParameters_to_mldev(api, parameters, None, parameters)
    converted.pop("config", None)
    return _json_ready(converted)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("arguments", ARGUMENTS.values(), ids=ARGUMENTS)
@pytest.mark.parametrize("history", PLAIN_HISTORIES.values(), ids=PLAIN_HISTORIES)
def test_a_plain_history_is_langchains_request_without_langchain(
    name: str, arguments: dict[str, Any], history: list[BaseMessage]
) -> None:
    model, tools = _model(name)
    kwargs = {**tools, **arguments}
    api = model.client._api_client
    model._prepare_collapsed(history, **kwargs)  # LangChain's config kept

    ours = model._prepare_collapsed(history, **kwargs)
    theirs = model._prepare_request(history, **kwargs)

    assert ours["model"] == theirs["model"] and ours["config"] == theirs["config"]
    assert ours["config"].http_options == theirs["config"].http_options
    expected = _sdk_body(api, theirs)
    assert _sdk_body(api, ours) == expected
    assert wire_request(api, name, ours["contents"], ours["config"]) == expected


def test_langchain_makes_the_config_once_per_call_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model, tools = _model()
    kwargs = {**tools, **ARGUMENTS["timeout"]}
    made: list[list[BaseMessage]] = []
    prepare = GeminiChat._prepare_request

    def counted(self: GeminiChat, messages: list[BaseMessage], **kw: Any) -> dict[str, Any]:
        made.append(messages)
        return prepare(self, messages, **kw)

    monkeypatch.setattr(GeminiChat, "_prepare_request", counted)
    model._prepare_collapsed(PLAIN, **kwargs)
    model._prepare_collapsed([*PLAIN, AIMessage("Yes."), HumanMessage("size 42?")], **kwargs)
    assert len(made) == 1
    model._prepare_collapsed(PLAIN, **{**kwargs, "timeout": 7.0})
    model._prepare_collapsed(PLAIN, **{**kwargs, "tools": list(kwargs["tools"])})  # equal, new
    assert len(made) == 2
    model._prepare_collapsed(PLAIN, **{**kwargs, "tool_choice": {"mode": "ANY"}})  # no key
    assert len(made) == 3 and made[-1][0] is PLAIN[0]  # LangChain's request, history and all


OTHERS = {
    "a tool call": [
        *PLAIN,
        AIMessage("", tool_calls=[{"name": "view_cart", "args": {}, "id": "1"}]),
        ToolMessage("empty", tool_call_id="1", name="view_cart"),
    ],
    "ending on the model": PLAIN[:3],
    "a system prompt of blocks": [
        SystemMessage([{"type": "text", "text": "Be kind."}]),
        *PLAIN[1:],
    ],
    "an empty system prompt": [SystemMessage(""), *PLAIN[1:]],
    "a second system prompt": [*PLAIN, SystemMessage("Answer briefly.")],
    "an image": [*PLAIN, HumanMessage([{"type": "text", "text": "this one?"}])],
    "nothing": [],
}


@pytest.mark.parametrize("history", OTHERS.values(), ids=OTHERS)
def test_other_histories_are_left_to_langchain(history: list[BaseMessage]) -> None:
    model, kwargs = _model()

    assert model._prepare_plain(*_collapse_plain(history), kwargs) is None


def test_a_model_that_refuses_prefill_still_refuses_a_history_ending_on_the_model() -> None:
    model = GeminiChat(model="gemini-3.6-flash", api_key="key", max_retries=1)

    with pytest.raises(ValueError, match="prefill"):
        model._prepare_collapsed(PLAIN[:3])
