"""Whether an LLM provider answers, without a generation: one GET for the configured model
(`models.get`: the key, the base URL and the model name are checked at once, no tokens spent).
For /health, which caches the answer (services/monitoring/health.py)."""

from __future__ import annotations

import httpx
import openai
from google.genai import errors as genai_errors

from graph.llm import _api_key
from settings import Settings

CHECK_TIMEOUT_SECONDS = 5.0


def provider_problem(provider: str, settings: Settings) -> str | None:
    """None when `provider` answers for its configured model, else what went wrong in a
    few words (never the key)."""
    api_key = _api_key(provider, settings)
    if not api_key:
        return "no API key"
    try:
        if provider == "gemini":
            _get_gemini_model(api_key, settings)
        else:
            _get_openai_model(api_key, settings)
    except genai_errors.APIError as exc:
        return f"HTTP {exc.code}"
    except openai.APIStatusError as exc:
        return f"HTTP {exc.status_code}"
    except (openai.APIConnectionError, httpx.HTTPError, OSError) as exc:
        return f"unreachable ({type(exc).__name__})"
    return None


def _get_gemini_model(api_key: str, settings: Settings) -> None:
    from google import genai  # on first use: the SDK takes about a second to import
    from google.genai import types

    options = types.HttpOptions(
        base_url=settings.gemini_base_url or None,
        timeout=int(CHECK_TIMEOUT_SECONDS * 1000),
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    with genai.Client(api_key=api_key, http_options=options) as client:
        client.models.get(model=settings.gemini_model)


def _get_openai_model(api_key: str, settings: Settings) -> None:
    with openai.OpenAI(
        api_key=api_key,
        base_url=settings.openai_base_url or None,
        timeout=CHECK_TIMEOUT_SECONDS,
        max_retries=0,
    ) as client:
        client.models.retrieve(settings.openai_model)
