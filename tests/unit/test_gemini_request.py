"""graph.gemini.GeminiChat sends the very request LangChain's Gemini model sends, and reads
the answer the same way."""

import base64
from typing import Any

import pytest
from google.genai import models, types
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_google_genai import ChatGoogleGenerativeAI

from channels.simulators.llm_gemini import GeminiSimulator
from graph.gemini import _RUN_KEY, GeminiChat
from graph.gemini_wire import _json_ready, _wire_contents
from tests.unit import test_llm
from tools import tools_for

IMAGE = base64.b64encode(b"\x89PNG not really").decode()
gemini_server, gemini = test_llm.gemini_server, test_llm.gemini  # the same fake's fixtures
SIGNATURE = base64.b64encode(b"a thought signature").decode()
GEMINI = {"model_provider": "google_genai", "model_name": "gemini-2.5-flash",
          "finish_reason": "STOP"}  # fmt: skip
HISTORY: list[BaseMessage] = [
    SystemMessage("You answer for a shop."),
    HumanMessage("hello"),
    AIMessage("Hi! How can I help?", response_metadata=GEMINI),
    HumanMessage("do you ship to Spain?"),
    AIMessage("[Operator Ana] Yes, in 3 days."),  # an operator's message: no provider
    HumanMessage("great"),
    HumanMessage("any running shoes?"),
    AIMessage(
        "",
        tool_calls=[{"name": "search_products", "args": {"query": "shoes"}, "id": "1"}],
        additional_kwargs={"__gemini_function_call_thought_signatures__": {"1": SIGNATURE}},
    ),
    ToolMessage("3 products", tool_call_id="1", name="search_products"),
    AIMessage("We have three.", response_metadata=GEMINI),
    HumanMessage(
        content=[
            {"type": "text", "text": "like this one?"},
            {"type": "image", "base64": IMAGE, "mime_type": "image/png"},
        ]
    ),
]


def _exchange(
    model_class: type[ChatGoogleGenerativeAI],
    gemini: GeminiSimulator,
    history: list[BaseMessage],
    model_name: str = "gemini-2.5-flash",
) -> tuple[dict[str, Any], AIMessage]:
    """The body the fake received and the message the model made of its answer."""
    gemini.reset()
    gemini.call_tool("search_products", {"query": "trail", "max_price": 120})
    model = model_class(
        model=model_name, api_key=gemini.api_key, base_url=gemini.base_url, max_retries=1
    )
    reply = model.bind_tools(list(tools_for("customer"))).invoke(history)
    assert isinstance(reply, AIMessage) and gemini.last_request is not None
    return gemini.last_request, reply


def _comparable(message: AIMessage) -> dict[str, Any]:
    calls = [{"name": c["name"], "args": c["args"]} for c in message.tool_calls]  # ids: uuid4
    return {"content": message.content, "calls": calls, "usage": message.usage_metadata,
            "metadata": message.response_metadata}  # fmt: skip


HISTORIES = {
    "tools-and-image": HISTORY,
    "one-message": HISTORY[:2],
    "ending-on-tool-calls": HISTORY[:10],
    "plain-only": HISTORY[:7],
}


@pytest.mark.parametrize("model_name", ["gemini-2.5-flash", "gemini-3-flash-preview"])
@pytest.mark.parametrize("history", list(HISTORIES.values()), ids=list(HISTORIES))
def test_the_request_on_the_wire_and_the_reply_are_langchains(
    gemini: GeminiSimulator, history: list[BaseMessage], model_name: str
) -> None:
    ours, our_reply = _exchange(GeminiChat, gemini, history, model_name)
    theirs, their_reply = _exchange(ChatGoogleGenerativeAI, gemini, history, model_name)

    assert ours == theirs
    assert _comparable(our_reply) == _comparable(their_reply)
    assert our_reply.tool_calls[0]["args"] == {"query": "trail", "max_price": 120}
    assert ours["tools"][0]["functionDeclarations"] and ours["systemInstruction"]


def test_tool_calls_signatures_and_images_are_written_as_the_sdk_writes_them(
    gemini: GeminiSimulator,
) -> None:
    body, _ = _exchange(GeminiChat, gemini, HISTORY)

    parts = [part for content in body["contents"] for part in content["parts"]]
    call = next(part for part in parts if "functionCall" in part)
    image = next(part for part in parts if "inlineData" in part)
    assert call["functionCall"]["name"] == "search_products"
    assert base64.urlsafe_b64decode(call["thoughtSignature"]) == b"a thought signature"
    assert image["inlineData"]["mime_type"] == "image/png"
    assert base64.urlsafe_b64decode(image["inlineData"]["data"]) == b"\x89PNG not really"


def test_parts_with_fields_of_their_own_go_through_the_sdks_converter() -> None:
    contents = [
        types.Content(role="model", parts=[
            types.Part(executable_code=types.ExecutableCode(code="1+1", language="PYTHON")),
            types.Part(function_call=types.FunctionCall(name="f", args={"a": 1}, id="x")),
            types.Part(text="", thought=True, thought_signature=b"\xfb\xff signed"),
            types.Part(function_response=types.FunctionResponse(name="f", response={"r": 2})),
            types.Part(inline_data=types.Blob(mime_type="image/png", data=b"\x89PNG")),
        ]),
        types.Content(role="user", parts=[types.Part(file_data=types.FileData(file_uri="u"))]),
    ]  # fmt: skip

    sdk = [models._Content_to_mldev(c) for c in contents]
    assert _wire_contents(contents) == [_json_ready(content) for content in sdk]


def test_runs_of_plain_messages_skip_langchains_part_objects() -> None:
    model = GeminiChat(model="gemini-2.5-flash", api_key="key", max_retries=1)
    bound = model.bind_tools(list(tools_for("customer")))

    request = model._prepare_collapsed(HISTORY, **bound.kwargs)  # type: ignore[attr-defined]

    written = [c for c in request["contents"] if isinstance(c, dict)]
    roles = ["user", "model", "user", "model", "user", "user", "model"]
    assert [c["role"] for c in written] == roles
    assert not any(_RUN_KEY in str(content) for content in request["contents"])
