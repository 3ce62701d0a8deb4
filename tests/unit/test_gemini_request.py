"""graph.gemini.GeminiChat makes the very request LangChain's Gemini model makes."""

import base64

from google.genai import models, types
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_google_genai import ChatGoogleGenerativeAI

from graph.gemini import GeminiChat
from tools import tools_for

IMAGE = base64.b64encode(b"\x89PNG not really").decode()
HISTORY = [
    SystemMessage("You answer for a shop."),
    HumanMessage("any running shoes?"),
    AIMessage("", tool_calls=[{"name": "search_products", "args": {"query": "shoes"}, "id": "1"}]),
    ToolMessage("3 products", tool_call_id="1", name="search_products"),
    AIMessage("We have three."),
    HumanMessage(
        content=[
            {"type": "text", "text": "like this one?"},
            {"type": "image", "base64": IMAGE, "mime_type": "image/png"},
        ]
    ),
]


def _wire(model: ChatGoogleGenerativeAI) -> dict:
    bound = model.bind_tools(list(tools_for("customer")))
    request = model._prepare_request(HISTORY, **bound.kwargs)  # type: ignore[attr-defined]
    parameters = types._GenerateContentParameters(**request)
    return models._GenerateContentParameters_to_mldev(model.client._api_client, parameters)


def test_the_request_with_tools_tool_calls_and_an_image_is_the_same_as_langchains():
    settings = {"model": "gemini-2.5-flash", "api_key": "key", "max_retries": 1}
    ours = _wire(GeminiChat(**settings))
    assert ours == _wire(ChatGoogleGenerativeAI(**settings))
    assert len(ours["contents"]) == 5 and ours["tools"][0]["functionDeclarations"]
    assert ours["contents"][-1]["parts"][1]["inlineData"].mime_type == "image/png"
