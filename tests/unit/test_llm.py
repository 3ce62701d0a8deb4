import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
import respx
from google.genai import errors as genai_errors
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from channels.simulators.llm_gemini import GeminiSimulator
from channels.simulators.llm_openai import OpenAISimulator
from graph import llm
from graph.llm import (
    LLMNotConfigured,
    LLMUnavailable,
    build_agent_model,
    build_structured_model,
    configured_providers,
    invoke_agent_model,
    usage_of,
)
from graph.thinking import gemini_thinking, openai_reasoning
from settings import Settings


@tool
def search_knowledge_base(query: str) -> str:
    """Search the merchant's documents."""
    return f"results for {query}"


@pytest.fixture(autouse=True)
def tiny_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm, "RETRY_WAIT", {"initial": 0.01, "max": 0.02, "jitter": 0.0})


@pytest.fixture(scope="module")
def gemini_server() -> Iterator[GeminiSimulator]:
    fake = GeminiSimulator()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def openai_server() -> Iterator[OpenAISimulator]:
    fake = OpenAISimulator()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def gemini(gemini_server: GeminiSimulator) -> GeminiSimulator:
    gemini_server.reset()
    return gemini_server


@pytest.fixture
def openai_fake(openai_server: OpenAISimulator) -> OpenAISimulator:
    openai_server.reset()
    return openai_server


def make_settings(
    gemini: GeminiSimulator | None = None, openai: OpenAISimulator | None = None, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "google_api_key": gemini.api_key if gemini else None,
        "gemini_base_url": gemini.base_url if gemini else None,
        "openai_api_key": openai.api_key if openai else None,
        "openai_base_url": openai.base_url if openai else None,
        "llm_provider": "gemini",
        "llm_fallback_provider": "openai" if openai else None,
        "llm_max_retries": 2,
        "llm_timeout_seconds": 5.0,
    }
    return Settings(_env_file=None, **{**values, **overrides})


def ask(settings: Settings, *messages: Any, tools: tuple = ()) -> AIMessage:
    return invoke_agent_model(build_agent_model(settings, tools), list(messages))


def test_gemini_text_reply_comes_back_as_ai_message_text(gemini: GeminiSimulator) -> None:
    gemini.reply("Hello from Gemini")

    answer = ask(make_settings(gemini), HumanMessage("hi"))

    assert isinstance(answer, AIMessage)
    assert answer.text == "Hello from Gemini"
    assert gemini.user_texts(gemini.last_request) == ["hi"]


def test_default_reply_echoes_the_last_user_turn(gemini: GeminiSimulator) -> None:
    answer = ask(make_settings(gemini), HumanMessage("first"), HumanMessage("second"))

    assert answer.text == "Echo: second"


def test_gemini_tool_call_round_trip(gemini: GeminiSimulator) -> None:
    gemini.call_tool("search_knowledge_base", {"query": "opening hours"}).reply("9 to 5")
    model = build_agent_model(make_settings(gemini), [search_knowledge_base])
    question = HumanMessage("when are you open?")

    call = invoke_agent_model(model, [question])
    [tool_call] = call.tool_calls
    result = ToolMessage("Mon-Fri 9-17", tool_call_id=tool_call["id"])
    answer = invoke_agent_model(model, [question, call, result])

    assert tool_call["name"] == "search_knowledge_base"
    assert tool_call["args"] == {"query": "opening hours"}
    assert answer.text == "9 to 5"
    first, second = gemini.requests
    assert gemini.tool_names(first) == ["search_knowledge_base"]
    parts = [part for content in second["contents"] for part in content["parts"]]
    responses = [part["functionResponse"] for part in parts if "functionResponse" in part]
    assert responses[0]["name"] == "search_knowledge_base"
    assert "Mon-Fri 9-17" in str(responses[0]["response"])


def test_openai_tool_call_comes_back_as_tool_calls(openai_fake: OpenAISimulator) -> None:
    openai_fake.call_tool("search_knowledge_base", {"query": "price"})
    settings = make_settings(openai=openai_fake, llm_provider="openai")

    answer = ask(settings, HumanMessage("how much?"), tools=(search_knowledge_base,))

    assert [(c["name"], c["args"]) for c in answer.tool_calls] == [
        ("search_knowledge_base", {"query": "price"})
    ]
    assert openai_fake.tool_names(openai_fake.last_request) == ["search_knowledge_base"]


def test_system_prompt_reaches_the_system_instruction(gemini: GeminiSimulator) -> None:
    ask(make_settings(gemini), SystemMessage("You are Switchboard."), HumanMessage("hi"))

    assert gemini.system_text(gemini.last_request) == "You are Switchboard."
    assert gemini.last_request["systemInstruction"]["parts"] == [{"text": "You are Switchboard."}]


def test_rate_limit_is_retried(gemini: GeminiSimulator) -> None:
    gemini.fail(429).reply("after the limit")

    answer = ask(make_settings(gemini), HumanMessage("hi"))

    assert answer.text == "after the limit"
    assert len(gemini.requests) == 2


def test_timeout_is_retried(gemini: GeminiSimulator) -> None:
    gemini.hang(2).reply("in time")

    answer = ask(make_settings(gemini, llm_timeout_seconds=0.3), HumanMessage("hi"))

    assert answer.text == "in time"
    assert len(gemini.requests) == 2


def test_server_errors_exhaust_retries_then_openai_answers(
    gemini: GeminiSimulator, openai_fake: OpenAISimulator
) -> None:
    gemini.fail(500, times=3)
    openai_fake.reply("OpenAI here")

    answer = ask(make_settings(gemini, openai_fake, llm_max_retries=2), HumanMessage("hi"))

    assert answer.text == "OpenAI here"
    assert len(gemini.requests) == 3
    assert openai_fake.user_texts(openai_fake.last_request) == ["hi"]


def test_bad_request_is_not_retried_but_falls_back(
    gemini: GeminiSimulator, openai_fake: OpenAISimulator
) -> None:
    gemini.fail(400)

    answer = ask(make_settings(gemini, openai_fake), HumanMessage("hi"))

    assert answer.text == "Echo: hi"
    assert len(gemini.requests) == 1
    assert len(openai_fake.requests) == 1


def test_wrong_gemini_key_is_not_retried_but_falls_back(
    gemini: GeminiSimulator, openai_fake: OpenAISimulator
) -> None:
    settings = make_settings(gemini, openai_fake, google_api_key="wrong-key")

    answer = ask(settings, HumanMessage("hi"))

    assert answer.text == "Echo: hi"
    assert len(gemini.requests) == 1


def test_all_providers_failing_raises_llm_unavailable(
    gemini: GeminiSimulator, openai_fake: OpenAISimulator
) -> None:
    gemini.fail(503, times=3)
    openai_fake.fail(500, times=3)

    with pytest.raises(LLMUnavailable) as raised:
        ask(make_settings(gemini, openai_fake), HumanMessage("hi"))

    assert len(gemini.requests) == 3
    assert len(openai_fake.requests) == 3
    # RunnableWithFallbacks re-raises the primary's error once every provider failed
    assert isinstance(raised.value.__cause__, genai_errors.ServerError)
    assert raised.value.__cause__.code == 503


@pytest.mark.parametrize("finish", ["STOP", "SAFETY"])
def test_an_empty_reply_is_asked_again_once(gemini: GeminiSimulator, finish: str) -> None:
    gemini.empty(finish).reply("Second try")

    answer = ask(make_settings(gemini), HumanMessage("hi"))

    assert answer.text == "Second try"
    assert len(gemini.requests) == 2


def test_two_empty_replies_fall_back_to_the_other_provider(
    gemini: GeminiSimulator, openai_fake: OpenAISimulator
) -> None:
    gemini.empty(times=2)

    answer = ask(make_settings(gemini, openai_fake), HumanMessage("hi"))

    assert answer.text == "Echo: hi"
    assert len(gemini.requests) == 2
    assert len(openai_fake.requests) == 1


def test_empty_replies_from_every_provider_are_a_failure_not_silence(
    gemini: GeminiSimulator, openai_fake: OpenAISimulator
) -> None:
    gemini.empty(times=2)
    openai_fake.empty("SAFETY", times=2)

    with pytest.raises(LLMUnavailable) as raised:
        ask(make_settings(gemini, openai_fake), HumanMessage("hi"))

    assert isinstance(raised.value.__cause__, llm.EmptyReply)
    assert len(openai_fake.requests) == 2


def _after_tool(name: str) -> list[BaseMessage]:
    call = {"name": name, "args": {"query": "x"}, "id": "call-1"}
    return [
        HumanMessage("photo of the red one?"),
        AIMessage("", tool_calls=[call]),
        ToolMessage("done", tool_call_id="call-1", name=name),
    ]


def test_an_empty_reply_after_a_tool_that_answered_is_accepted(gemini: GeminiSimulator) -> None:
    """The tool (a media send, a question to the team) did the answering."""
    gemini.empty()

    answer = ask(make_settings(gemini), *_after_tool("respond_with_media"),
                 tools=(search_knowledge_base,))  # fmt: skip

    assert answer.text == ""
    assert len(gemini.requests) == 1


def test_an_empty_reply_after_a_lookup_is_asked_again(gemini: GeminiSimulator) -> None:
    """A knowledge search answered the model, not the customer: silence would drop them."""
    gemini.empty().reply("We ship to Mexico in 5 days.")

    answer = ask(make_settings(gemini), *_after_tool("search_knowledge_base"),
                 tools=(search_knowledge_base,))  # fmt: skip

    assert answer.text == "We ship to Mexico in 5 days."
    assert len(gemini.requests) == 2


def test_no_api_key_raises_llm_not_configured() -> None:
    with pytest.raises(LLMNotConfigured):
        build_agent_model(make_settings(llm_fallback_provider="openai"))


def test_configured_providers_keeps_keyed_primary_then_fallback() -> None:
    both = make_settings(google_api_key="g", openai_api_key="o", llm_fallback_provider="openai")
    openai_only = make_settings(openai_api_key="o", llm_fallback_provider="openai")
    same_twice = make_settings(google_api_key="g", llm_fallback_provider="gemini")

    assert configured_providers(both) == ["gemini", "openai"]
    assert configured_providers(openai_only) == ["openai"]
    assert configured_providers(same_twice) == ["gemini"]


def test_usage_of_reports_tokens_provider_and_model(
    gemini: GeminiSimulator, openai_fake: OpenAISimulator
) -> None:
    gemini_usage = usage_of(ask(make_settings(gemini), HumanMessage("x" * 400)))
    openai_settings = make_settings(openai=openai_fake, llm_provider="openai")
    openai_usage = usage_of(ask(openai_settings, HumanMessage("x" * 400)))

    assert gemini_usage == {
        "input_tokens": 100,
        "output_tokens": 102,
        "provider": "gemini",
        "model": "gemini-2.5-flash",
    }
    assert openai_usage["input_tokens"] == 100
    assert openai_usage["provider"] == "openai"
    assert openai_usage["model"] == "gpt-4.1-mini"
    assert usage_of(AIMessage("no metadata")) == {
        "input_tokens": 0,
        "output_tokens": 0,
        "provider": None,
        "model": None,
    }


@respx.mock
def test_default_gemini_url_is_generative_language_v1beta() -> None:
    url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    route = respx.post(url).mock(
        return_value=httpx.Response(
            200,
            json={
                "candidates": [
                    {"content": {"role": "model", "parts": [{"text": "real URL"}]}, "index": 0}
                ],
                "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 2},
            },
        )
    )

    answer = ask(make_settings(google_api_key="k"), HumanMessage("hi"))

    assert answer.text == "real URL"
    assert route.calls.last.request.headers["x-goog-api-key"] == "k"


def test_nothing_uses_aiohttp(gemini: GeminiSimulator) -> None:
    ask(make_settings(gemini), HumanMessage("hi"))

    assert "aiohttp" not in sys.modules


@pytest.mark.parametrize(
    ("model", "budget", "expected"),
    [
        ("gemini-2.5-flash", 0, {"thinking_budget": 0}),
        ("gemini-2.5-flash", 256, {"thinking_budget": 256}),
        ("gemini-2.5-flash", 99_999, {"thinking_budget": 24576}),
        ("gemini-2.5-flash-lite", 0, {"thinking_budget": 0}),
        ("gemini-2.5-flash-lite", 100, {"thinking_budget": 512}),
        ("gemini-2.5-pro", 0, {"thinking_budget": 128}),  # Pro cannot stop thinking
        ("models/gemini-2.5-flash", 0, {"thinking_budget": 0}),
        ("gemini-3-flash-preview", 0, {"thinking_level": "minimal"}),
        ("gemini-3-flash-preview", 1024, {"thinking_level": "low"}),
        ("gemini-3-flash-preview", 4096, {"thinking_level": "medium"}),
        ("gemini-3-pro-preview", 0, {"thinking_level": "low"}),
        ("gemini-3-pro-preview", 20_000, {"thinking_level": "high"}),
        ("gemini-2.0-flash", 0, {}),  # does not think
        ("gemini-flash-latest", 0, {}),  # an alias: which model it is, we cannot tell
        ("gemini-2.5-flash", -1, {}),  # the model's own default
    ],
)
def test_the_thinking_budget_is_fitted_to_each_gemini_model(
    model: str, budget: int, expected: dict
) -> None:
    assert gemini_thinking(model, budget) == expected


@pytest.mark.parametrize(
    ("model", "budget", "expected"),
    [
        ("gpt-4.1-mini", 0, {}),
        ("gpt-5-chat-latest", 0, {}),
        ("gpt-5-mini", 0, {"reasoning_effort": "minimal"}),
        ("gpt-5.1", 0, {"reasoning_effort": "none"}),
        ("o4-mini", 0, {"reasoning_effort": "low"}),
        ("o3", 4096, {"reasoning_effort": "medium"}),
        ("gpt-5", 50_000, {"reasoning_effort": "high"}),
        ("o4-mini", -1, {}),
    ],
)
def test_the_thinking_budget_becomes_an_openai_reasoning_effort(
    model: str, budget: int, expected: dict
) -> None:
    assert openai_reasoning(model, budget) == expected


def test_the_default_thinking_budget_turns_gemini_flash_thinking_off(
    gemini: GeminiSimulator,
) -> None:
    ask(make_settings(gemini), HumanMessage("hi"))

    assert gemini.thinking(gemini.last_request) == {"budget": 0, "level": None}


@pytest.mark.parametrize(
    ("model", "thinking"),
    [
        ("gemini-2.5-pro", {"budget": 128, "level": None}),
        ("gemini-3-flash-preview", {"budget": None, "level": "minimal"}),
        ("gemini-3-pro-preview", {"budget": None, "level": "low"}),
    ],
)
def test_each_gemini_model_gets_a_thinking_config_it_accepts(
    gemini: GeminiSimulator, model: str, thinking: dict
) -> None:
    answer = ask(make_settings(gemini, gemini_model=model), HumanMessage("hi"))

    assert answer.text == "Echo: hi"
    assert gemini.thinking(gemini.last_request) == thinking


def test_the_light_model_gets_its_own_thinking_floor(gemini: GeminiSimulator) -> None:
    class Answer(BaseModel):
        text: str

    settings = make_settings(gemini, llm_thinking_budget=100)  # Flash-Lite thinks 512 or none
    build_structured_model(settings, Answer).invoke([HumanMessage("hi")])

    (request,) = gemini.structured_requests
    assert gemini.thinking(request) == {"budget": 512, "level": None}


def test_a_thinking_budget_of_minus_one_sends_no_thinking_config(gemini: GeminiSimulator) -> None:
    ask(make_settings(gemini, llm_thinking_budget=-1), HumanMessage("hi"))

    assert gemini.thinking(gemini.last_request) is None


def test_the_gemini_simulator_refuses_thinking_a_model_does_not_take(
    gemini: GeminiSimulator,
) -> None:
    from langchain_google_genai import ChatGoogleGenerativeAI

    for model, kwargs in (
        ("gemini-2.5-pro", {"thinking_budget": 0}),
        ("gemini-2.0-flash", {"thinking_budget": 0}),
        ("gemini-2.5-flash", {"thinking_level": "low"}),
        ("gemini-3-pro-preview", {"thinking_level": "minimal"}),
    ):
        chat = ChatGoogleGenerativeAI(
            model=model, api_key=gemini.api_key, base_url=gemini.base_url, max_retries=1, **kwargs
        )
        with pytest.raises(Exception, match="400"):
            chat.invoke("hi")


def test_an_openai_reasoning_model_gets_an_effort_and_no_temperature(
    openai_fake: OpenAISimulator,
) -> None:
    settings = make_settings(openai=openai_fake, llm_provider="openai", openai_model="o4-mini")

    answer = ask(settings, HumanMessage("hi"))

    assert answer.text == "Echo: hi"
    assert openai_fake.last_request["reasoning_effort"] == "low"
    assert "temperature" not in openai_fake.last_request


def test_an_openai_chat_model_gets_no_reasoning_effort(openai_fake: OpenAISimulator) -> None:
    ask(make_settings(openai=openai_fake, llm_provider="openai"), HumanMessage("hi"))

    assert "reasoning_effort" not in openai_fake.last_request
    assert openai_fake.last_request["temperature"] == llm.TEMPERATURE


def test_the_openai_simulator_refuses_reasoning_settings_a_model_does_not_take(
    openai_fake: OpenAISimulator,
) -> None:
    from langchain_openai import ChatOpenAI

    for model, kwargs in (
        ("gpt-4.1-mini", {"reasoning_effort": "low"}),
        ("o4-mini", {"temperature": 0.3}),
        ("gpt-5.1", {"reasoning_effort": "minimal"}),
    ):
        chat = ChatOpenAI(
            model=model, api_key=openai_fake.api_key, base_url=openai_fake.base_url,
            max_retries=0, **kwargs,
        )  # fmt: skip
        with pytest.raises(openai.BadRequestError, match="Unsupported"):
            chat.invoke("hi")


def test_a_deadline_already_passed_asks_no_provider(
    gemini: GeminiSimulator, openai_fake: OpenAISimulator
) -> None:
    model = build_agent_model(make_settings(gemini, openai_fake))

    with pytest.raises(LLMUnavailable, match="deadline passed"):
        invoke_agent_model(model, [HumanMessage("hi")], deadline=time.monotonic())

    assert gemini.requests == [] and openai_fake.requests == []


def test_a_hanging_provider_is_cut_to_leave_the_fallback_its_share_of_the_deadline(
    gemini: GeminiSimulator, openai_fake: OpenAISimulator
) -> None:
    """Gemini's attempt would wait 30 s for its own timeout and be retried; the deadline cuts
    it where the fallback's share begins, and OpenAI answers in time."""
    gemini.hang(5).reply("too late")
    model = build_agent_model(make_settings(gemini, openai_fake, llm_timeout_seconds=30))

    answer = invoke_agent_model(model, [HumanMessage("hi")], deadline=time.monotonic() + 3)

    assert answer.text == "Echo: hi"
    assert len(gemini.requests) == 1 and len(openai_fake.requests) == 1


def test_when_every_provider_hangs_the_run_gives_up_at_the_deadline(
    gemini: GeminiSimulator, openai_fake: OpenAISimulator
) -> None:
    gemini.hang(5)
    openai_fake.hang(5)
    model = build_agent_model(make_settings(gemini, openai_fake, llm_timeout_seconds=30))

    with pytest.raises(LLMUnavailable, match="deadline passed"):
        invoke_agent_model(model, [HumanMessage("hi")], deadline=time.monotonic() + 2)

    assert len(gemini.requests) == 1 and len(openai_fake.requests) == 1


def test_within_its_deadline_a_run_retries_and_falls_back_as_before(
    gemini: GeminiSimulator, openai_fake: OpenAISimulator
) -> None:
    gemini.fail(503, times=3)
    model = build_agent_model(make_settings(gemini, openai_fake))

    answer = invoke_agent_model(model, [HumanMessage("hi")], deadline=time.monotonic() + 60)

    assert answer.text == "Echo: hi"
    assert len(gemini.requests) == 3 and len(openai_fake.requests) == 1


def test_the_light_agent_model_asks_the_light_model(gemini: GeminiSimulator) -> None:
    model = build_agent_model(make_settings(gemini), light=True)

    answer = invoke_agent_model(model, [HumanMessage("hi")])

    assert answer.response_metadata["model_name"] == "gemini-2.5-flash-lite"


def test_a_process_builds_each_model_once_for_the_same_settings(gemini: GeminiSimulator) -> None:
    """An SDK client costs about 20 ms to build (its TLS context): the summariser and the
    other light-model calls must not pay it on every call."""
    settings = make_settings(gemini)
    first = llm.make_chat_model("gemini", settings, light=True)
    assert llm.make_chat_model("gemini", settings, light=True) is first
    assert llm.make_chat_model("gemini", settings) is not first  # the main model
    changed = make_settings(gemini, llm_timeout_seconds=3.0)
    assert llm.make_chat_model("gemini", changed, light=True) is not first
    llm.reset_models()  # a forked worker builds its own clients
    assert llm.make_chat_model("gemini", settings, light=True) is not first
