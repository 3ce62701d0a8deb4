"""The fixed part of every chat request, the system prompt and the tool declarations, as the
Gemini API receives it (chars / 4, the simulator's and the evals' estimate). Each of a
turn's requests carries it again, so it is held to a budget: before #19 it was about 1,220
tokens of customer prompt and 3,300 of customer tools."""

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from channels.simulators.llm import estimate_tokens
from channels.simulators.llm_gemini import GeminiSimulator
from graph.context import TurnContext
from graph.llm import build_agent_model, invoke_agent_model
from graph.prompts import system_prompt
from settings import Settings
from tools import COMMERCE_TOOL_NAMES, tools_for

PROMPT_BUDGET = 950  # tokens of the customer's system prompt, without merchant data or notes
TOOLS_BUDGET = 2_300  # tokens of the customer's tool declarations
TOOL_BUDGET = {"reply_with_options": 560}  # any other tool: 250


def _context() -> TurnContext:
    return TurnContext(
        conversation_id=1, turn_id=1, merchant_id=1, merchant_name="Acme Shoes",
        merchant_description="Running shoes.", tone="friendly", default_language="en",
        customer_name=None, customer_language="en", local_time="Wednesday 18 November 2026",
    )  # fmt: skip


@pytest.fixture(scope="module")
def sent() -> Iterator[tuple[dict[str, Any], str]]:
    """A customer's first chat request as the API received it, and its system text."""
    gemini = GeminiSimulator()
    gemini.start()
    try:
        settings = Settings(
            _env_file=None, google_api_key=gemini.api_key, gemini_base_url=gemini.base_url,
            llm_provider="gemini", llm_fallback_provider=None, llm_timeout_seconds=5.0,
        )  # fmt: skip
        model = build_agent_model(settings, tools_for("customer"))
        prompt = [SystemMessage(system_prompt(_context())), HumanMessage("hi")]
        invoke_agent_model(model, prompt)
        yield gemini.last_request, gemini.system_text(gemini.last_request)
    finally:
        gemini.stop()


def _declarations(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        declaration["name"]: declaration
        for tool in request["tools"]
        for declaration in tool["functionDeclarations"]
    }


def _descriptions(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "description" and isinstance(value, str):
                yield value
            else:
                yield from _descriptions(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _descriptions(item)


def test_the_customer_prompt_and_tools_stay_within_their_budget(sent) -> None:
    request, system = sent
    declarations = _declarations(request)

    prompt = estimate_tokens(len(system))
    tools = estimate_tokens(len(json.dumps(request["tools"])))
    over = {
        name: size
        for name, declaration in declarations.items()
        if (size := estimate_tokens(len(json.dumps(declaration)))) > TOOL_BUDGET.get(name, 250)
    }
    assert prompt <= PROMPT_BUDGET, prompt
    assert tools <= TOOLS_BUDGET, tools
    assert not over, over
    assert set(declarations) == {tool.name for tool in tools_for("customer")}


def test_tool_descriptions_carry_no_layout_nor_generated_text(sent) -> None:
    declarations = _declarations(sent[0])
    descriptions = list(_descriptions(declarations))

    assert len(descriptions) > 20
    # a docstring's line breaks and indentation; langchain-google-genai's text for a
    # property named "title" that has no description of its own
    assert [d for d in descriptions if "\n" in d or "  " in d] == []
    assert [d for d in descriptions if d.startswith("title is {")] == []
    assert all(declaration["description"] for declaration in declarations.values())


def test_a_merchant_without_store_or_media_files_is_not_offered_their_tools() -> None:
    names = [t.name for t in tools_for("customer", commerce=False, media=False)]
    prompt = system_prompt(replace(_context(), store_connected=False))

    assert names == [
        "search_knowledge_base", "request_intervention", "request_notification",
        "reply_with_options",
    ]  # fmt: skip
    assert [name for name in COMMERCE_TOOL_NAMES if name in prompt] == []
    assert {t.name for t in tools_for("customer", media=False)} >= COMMERCE_TOOL_NAMES
    assert "lookup_order" in system_prompt(_context())
    assert [t.name for t in tools_for("admin", commerce=False)] == ["answer_notification"]
