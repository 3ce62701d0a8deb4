"""Chat models for the agent: provider choice, our retry policy, and fallback.

The SDKs' own retries are turned off so that ours below (AgentChain, and `with_retry` for
structured output) is the only retry policy: transient errors (429, 5xx, timeouts, dropped
connections) are retried with a short exponential backoff; anything else falls straight
through to the fallback.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, cast
from uuid import UUID

import httpx
import openai
from google.genai import errors as genai_errors
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import ModelError
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import LLMResult
from langchain_core.runnables import Runnable, RunnableConfig, ensure_config
from langchain_core.runnables.retry import ExponentialJitterParams
from langchain_core.tools import BaseTool
from pydantic import BaseModel, SecretStr
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from graph.thinking import gemini_thinking, is_openai_reasoning, openai_reasoning
from observability.metrics import LLM_CALLS, LLM_ERRORS, LLM_LATENCY, LLM_TOKENS
from settings import Settings

PROVIDERS = ("gemini", "openai")
TEMPERATURE = 0.3

# An empty reply is asked again once, at once, before the fallback provider.
EMPTY_REPLY_ATTEMPTS = 2

# Passed to tenacity's wait_exponential_jitter; tests shrink these.
RETRY_WAIT: ExponentialJitterParams = {"initial": 0.5, "max": 8.0, "exp_base": 2.0, "jitter": 0.5}


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Timeouts and dropped connections; google-genai lets these through unwrapped."""
    modules: list[Any] = [httpx]
    try:  # google-genai runs on httpx2 when GOOGLE_GENAI_HTTP_CLIENT=httpx2
        import httpx2

        modules.append(httpx2)
    except ImportError:
        pass
    return tuple(
        error
        for module in modules
        for error in (module.TimeoutException, module.NetworkError, module.RemoteProtocolError)
    )


TRANSPORT_ERRORS = _transport_errors() + (openai.APIConnectionError,)  # incl. APITimeoutError


def _transient_status(status: int | None) -> bool:
    return status is not None and (status in (408, 429) or status >= 500)


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the same request to the same provider may succeed."""
    if isinstance(exc, ModelError):  # how both LangChain integrations classify SDK errors
        return exc.is_retryable
    if isinstance(exc, genai_errors.APIError):
        return _transient_status(exc.code)
    if isinstance(exc, openai.APIStatusError):
        return _transient_status(exc.status_code)
    if isinstance(exc, TRANSPORT_ERRORS):
        return True
    # e.g. a Gemini 408 arrives as a generic ChatGoogleGenerativeAIError from ClientError
    return exc.__cause__ is not None and is_transient(exc.__cause__)


class LLMNotConfigured(RuntimeError):
    """No LLM provider has an API key."""


class EmptyReply(RuntimeError):
    """The model answered a customer's message with neither text nor a tool call.

    Models do this now and then (Gemini: a blocked candidate, or one with no parts). It is
    retried once, then the fallback provider is asked, then the turn fails like any other
    provider failure and a person is called in: silence is never an answer.
    """


class DeadlinePassed(RuntimeError):
    """Too little of the run's time was left to ask a provider (again): the run fails over
    like any provider failure."""


class LLMUnavailable(RuntimeError):
    """Every configured provider failed after its retries.

    `__cause__` is the error that left the fallback chain: LangChain's
    `RunnableWithFallbacks` re-raises the primary provider's (last retried) error.
    """


def _api_key(provider: str, settings: Settings) -> str | None:
    secret = settings.google_api_key if provider == "gemini" else settings.openai_api_key
    return secret.get_secret_value() if secret is not None else None


def configured_providers(settings: Settings) -> list[str]:
    """The primary then the fallback provider, keeping only those with an API key."""
    candidates = [settings.llm_provider]
    fallback = settings.llm_fallback_provider
    if fallback is not None and fallback != settings.llm_provider:
        candidates.append(fallback)
    return [provider for provider in candidates if _api_key(provider, settings)]


def make_chat_model(provider: str, settings: Settings, *, light: bool = False) -> BaseChatModel:
    """One provider's chat model with the SDK's own retries disabled; `light`: the small,
    cheap model of that provider (GEMINI_LIGHT_MODEL, OPENAI_LIGHT_MODEL). Built once per
    process for the same settings: building an SDK client costs about 20 ms (its TLS
    context), more than the rest of a turn's model call."""
    api_key = _api_key(provider, settings)
    if not api_key:
        raise LLMNotConfigured(f"no API key for LLM provider {provider!r}")
    if provider == "gemini":
        model, base_url = settings.gemini_model, settings.gemini_base_url
        if light:
            model = settings.gemini_light_model
    elif provider == "openai":
        model, base_url = settings.openai_model, settings.openai_base_url
        if light:
            model = settings.openai_light_model
    else:
        raise ValueError(f"unknown LLM provider {provider!r}; expected one of {PROVIDERS}")
    return _chat_model(
        provider, model, api_key, base_url or None, settings.llm_timeout_seconds,
        settings.llm_thinking_budget,
    )  # fmt: skip


@lru_cache(maxsize=16)
def _chat_model(
    provider: str,
    model: str,
    api_key: str,
    base_url: str | None,
    timeout: float,
    thinking_budget: int,
) -> BaseChatModel:
    if provider == "gemini":
        # imported on first use: each provider's SDK takes about a second to import, and a
        # deployment usually runs one of them
        from graph.gemini import GeminiChat

        # max_retries=1 means one attempt: google-genai reads 0 as "its default" (5).
        return GeminiChat(
            model=model,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            temperature=TEMPERATURE,
            max_retries=1,
            **gemini_thinking(model, thinking_budget),
        )
    from langchain_openai import ChatOpenAI  # on first use, as above

    return ChatOpenAI(
        model=model,
        api_key=SecretStr(api_key),
        base_url=base_url,
        timeout=timeout,
        # reasoning models refuse any temperature but their own
        temperature=None if is_openai_reasoning(model) else TEMPERATURE,
        max_retries=0,
        use_responses_api=False,
        **openai_reasoning(model, thinking_budget),
    )


def reset_models() -> None:
    """Forget the models built so far (a forked worker process builds its own clients)."""
    _chat_model.cache_clear()


def build_agent_model(
    settings: Settings,
    tools: Sequence[BaseTool] = (),
    *,
    light: bool = False,
    retry_wait: ExponentialJitterParams | None = None,
) -> Runnable[Sequence[BaseMessage], AIMessage]:
    """The configured providers in order, each retried on transient errors only, no attempt
    starting after the deadline given to `invoke_agent_model`; `light`: their light models."""
    providers = configured_providers(settings)
    if not providers:
        raise LLMNotConfigured("set GOOGLE_API_KEY or OPENAI_API_KEY")
    models: list[Runnable[Any, AIMessage]] = []
    for provider in providers:
        model = make_chat_model(provider, settings, light=light)
        models.append(model.bind_tools(list(tools)) if tools else model)
    return AgentChain(
        models,
        timeout=settings.llm_timeout_seconds,
        attempts=settings.llm_max_retries + 1,
        wait=retry_wait if retry_wait is not None else RETRY_WAIT,
    )


# A run's deadline travels in its config: the time.monotonic() after which no attempt runs,
# and the seconds it had left when the run started.
DEADLINE_KEY = "llm_deadline"
BUDGET_KEY = "llm_budget"
# An attempt is not started with less time than this left: it could only time out.
MIN_ATTEMPT_SECONDS = 0.5


class AgentChain(Runnable[Sequence[BaseMessage], AIMessage]):
    """The providers' models in order, under one policy:
    - an attempt ends before the run's deadline, leaving each later provider (the fallback)
      a share: one attempt's timeout, or an equal part of a shorter budget, so a provider
      that hangs cannot use up the time of the one meant to replace it; with too little time
      left it is not started (DeadlinePassed, not transient: the next provider takes over);
    - transient errors are retried with exponential backoff and jitter, up to `attempts`;
    - an empty reply to a person's message (EmptyReply) is asked again once, at once;
    - any error left moves on to the next provider; when all failed, the first provider's
      error is raised.
    What `with_retry` and `with_fallbacks` around two RunnableLambdas did, without the
    callbacks and config merging of their four or five runs (about 1.4 ms a call).
    """

    def __init__(
        self,
        models: Sequence[Runnable[Any, AIMessage]],
        *,
        timeout: float,
        attempts: int,
        wait: ExponentialJitterParams,
    ) -> None:
        self.models = list(models)
        self.timeout = timeout
        self.attempts = attempts
        self.wait = wait_exponential_jitter(**wait)

    def invoke(
        self, input: Sequence[BaseMessage], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        config = ensure_config(config)
        first_error: Exception | None = None
        for index, model in enumerate(self.models):
            later = len(self.models) - 1 - index
            try:
                return self._answered(model, input, config, later)
            except Exception as exc:
                if first_error is None:
                    first_error = exc
        assert first_error is not None
        raise first_error

    def _answered(
        self, model: Runnable[Any, AIMessage], messages: Sequence[BaseMessage],
        config: RunnableConfig, later: int,
    ) -> AIMessage:  # fmt: skip
        for attempt in range(1, EMPTY_REPLY_ATTEMPTS + 1):
            reply = self._retried(model, messages, config, later)
            if not (_awaits_answer(messages) and not reply.tool_calls and not reply.text.strip()):
                return reply
            finish = reply.response_metadata.get("finish_reason", "unknown")
            usage = usage_of(reply)
            LLM_ERRORS.labels(usage["provider"], usage["model"], EmptyReply.__name__).inc()
            if attempt == EMPTY_REPLY_ATTEMPTS:
                raise EmptyReply(f"the model returned an empty reply (finish reason {finish})")
        raise AssertionError("unreachable")

    def _retried(
        self, model: Runnable[Any, AIMessage], messages: Sequence[BaseMessage],
        config: RunnableConfig, later: int,
    ) -> AIMessage:  # fmt: skip
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self.wait,
            retry=retry_if_exception(is_transient),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._within_deadline(model, messages, config, later)
        raise AssertionError("unreachable: the last attempt's error is raised")

    def _within_deadline(
        self, model: Runnable[Any, AIMessage], messages: Sequence[BaseMessage],
        config: RunnableConfig, later: int,
    ) -> AIMessage:  # fmt: skip
        configurable = config.get("configurable") or {}
        deadline, budget = configurable.get(DEADLINE_KEY), configurable.get(BUDGET_KEY)
        if deadline is None or budget is None:
            return model.invoke(messages, config)
        reserve = later * max(0.0, min(self.timeout, budget / (later + 1)))
        left = deadline - reserve - time.monotonic()
        if left < MIN_ATTEMPT_SECONDS:
            raise DeadlinePassed(f"the turn's deadline passed for this provider ({left:.1f} s)")
        return model.invoke(messages, config, timeout=min(self.timeout, left))


# A prompt may end on a cue of ours rather than a person's words (graph.nodes.agent): an
# empty reply to it is allowed. Ids never reach the providers.
CUE_ID_PREFIX = "cue-"


# Tools that only look something up: the model must still put their result into words. After
# any other tool (a media send, options, a question to the team) an empty reply is fine: the
# tool did the answering.
LOOKUP_TOOLS = frozenset({"search_knowledge_base", "search_products", "view_cart", "lookup_order"})


def _awaits_answer(messages: Sequence[BaseMessage]) -> bool:
    """Whether the prompt ends on a person's words, or on lookups made since them."""
    for message in reversed(messages):
        if isinstance(message, ToolMessage):
            if message.name not in LOOKUP_TOOLS:
                return False
        elif isinstance(message, HumanMessage):
            return not (message.id or "").startswith(CUE_ID_PREFIX)
        elif not (isinstance(message, AIMessage) and message.tool_calls):
            return False
    return False


def build_structured_model(
    settings: Settings,
    schema: type[BaseModel],
    *,
    retry_wait: ExponentialJitterParams | None = None,
) -> Runnable[Sequence[BaseMessage], BaseModel]:
    """The light model of each configured provider, answering as `schema` (JSON schema
    output), with the same retry and fallback policy as the agent."""
    providers = configured_providers(settings)
    if not providers:
        raise LLMNotConfigured("set GOOGLE_API_KEY or OPENAI_API_KEY")
    wait = retry_wait if retry_wait is not None else RETRY_WAIT
    runnables = [
        make_chat_model(provider, settings, light=True)
        .with_structured_output(schema, method="json_schema")
        .with_retry(
            retry_if_exception_type=is_transient,
            wait_exponential_jitter=True,
            exponential_jitter_params=wait,
            stop_after_attempt=settings.llm_max_retries + 1,
        )
        for provider in providers
    ]
    primary, *fallbacks = runnables
    chain = primary.with_fallbacks(fallbacks) if fallbacks else primary
    return cast("Runnable[Sequence[BaseMessage], BaseModel]", chain)


def invoke_agent_model(
    runnable: Runnable[Sequence[BaseMessage], AIMessage],
    messages: Sequence[BaseMessage],
    *,
    deadline: float | None = None,
) -> AIMessage:
    """Invoke the agent model; any failure left after retries and fallbacks is LLMUnavailable.
    `deadline` (time.monotonic()): no attempt starts after it, none runs past it."""
    config = METERED
    if deadline is not None:  # keep the enclosing run's (the graph's) configurable
        budget = deadline - time.monotonic()
        configurable = {
            **ensure_config().get("configurable", {}),
            DEADLINE_KEY: deadline,
            BUDGET_KEY: budget,
        }
        config = {**METERED, "configurable": configurable}
    try:
        return runnable.invoke(list(messages), config=config)
    except Exception as exc:
        if deadline is not None and deadline - time.monotonic() < MIN_ATTEMPT_SECONDS:
            raise LLMUnavailable(f"LLM unavailable: the turn's deadline passed ({exc})") from exc
        raise LLMUnavailable(f"LLM unavailable: {exc}") from exc


_PROVIDER_NAMES = {"google_genai": "gemini", "openai": "openai"}


def usage_of(message: AIMessage) -> dict[str, Any]:
    """Token usage and the provider/model that answered; zeros when unknown."""
    usage: Mapping[str, Any] = message.usage_metadata or {}
    metadata = message.response_metadata or {}
    raw_provider: str | None = metadata.get("model_provider")
    provider = _PROVIDER_NAMES.get(raw_provider, raw_provider) if raw_provider else raw_provider
    return {
        "input_tokens": int(usage.get("input_tokens") or 0),
        "output_tokens": int(usage.get("output_tokens") or 0),
        "provider": provider,
        "model": metadata.get("model_name") or metadata.get("model"),
    }


class LLMMetrics(BaseCallbackHandler):
    """Counts every provider request (each retry and fallback attempt): latency, tokens,
    errors, by provider and model."""

    def __init__(self) -> None:
        self._started: dict[UUID, tuple[float, str, str]] = {}

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        params = kwargs.get("invocation_params") or {}
        path = " ".join(serialized.get("id") or []).lower()
        # GeminiChat (graph.gemini) serializes under its own module, not LangChain's google one
        provider = (
            "gemini" if "google" in path or "gemini" in path
            else "openai" if "openai" in path else "other"
        )  # fmt: skip
        model = str(params.get("model") or params.get("model_name") or "unknown")
        self._started[run_id] = (time.monotonic(), provider, model.removeprefix("models/"))

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        started = self._started.pop(run_id, None)
        if started is None:
            return
        since, provider, model = started
        LLM_CALLS.labels(provider, model, "ok").inc()
        LLM_LATENCY.labels(provider, model).observe(time.monotonic() - since)
        for generations in response.generations:
            for generation in generations:
                message = getattr(generation, "message", None)
                usage = getattr(message, "usage_metadata", None) or {}
                LLM_TOKENS.labels(provider, model, "input").inc(usage.get("input_tokens", 0))
                LLM_TOKENS.labels(provider, model, "output").inc(usage.get("output_tokens", 0))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        started = self._started.pop(run_id, None)
        if started is None:
            return
        since, provider, model = started
        LLM_CALLS.labels(provider, model, "error").inc()
        LLM_LATENCY.labels(provider, model).observe(time.monotonic() - since)
        LLM_ERRORS.labels(provider, model, type(error).__name__).inc()


LLM_METRICS = LLMMetrics()
# Pass as `config` to every model invocation.
METERED: RunnableConfig = {"callbacks": [LLM_METRICS]}
