"""graph.gemini writes a request's config as google-genai's Gemini API converter does."""

from typing import Any

import pytest
from google.genai import Client, models, types

from graph import gemini
from graph.gemini import _json_ready, _wire_request

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
        monkeypatch.setattr(gemini, "_sdk_config", None)

    assert _wire_request(api, "gemini-2.5-flash", CONTENTS, config) == expected


def test_the_tools_are_written_once_per_list_of_declarations() -> None:
    api = Client(api_key="key")._api_client
    config = CONFIGS["every field written directly"]

    first = _wire_request(api, "gemini-2.5-flash", CONTENTS, config)
    again = _wire_request(api, "gemini-2.5-flash", CONTENTS, config.model_copy())
    other = types.Tool(function_declarations=[FUNCTION.model_copy(update={"name": "other"})])
    changed = config.model_copy(update={"tools": [other]})

    assert again["tools"] is first["tools"]
    declared = _wire_request(api, "gemini-2.5-flash", CONTENTS, changed)["tools"]
    assert declared[0]["functionDeclarations"][0]["name"] == "other"
