"""An LLM judge for live runs: a model of the other family than the agent's scores each
reply for groundedness (everything it states comes from the merchant's knowledge, the
tools' results or the team's notes) and completeness (it answers everything asked).

Only with both keys: a model grading its own family's answers is too lenient, so with one
key the judge is skipped and the report says so. Replayed answers are never judged.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

_INSTRUCTION = """You grade a customer-service reply sent on WhatsApp for a business.
grounded (1-5): 5 when every fact in the reply is supported by the SOURCES (knowledge
search results, team notes, business facts), 1 when it invents prices, policies or
promises. A reply that states no facts (asks back, hands over) is 5.
complete (1-5): 5 when the reply answers or properly routes everything the customer asked.
Be strict and short."""


class Verdict(BaseModel):
    grounded: int = Field(ge=1, le=5, description="1 (invented facts) to 5 (all supported)")
    complete: int = Field(ge=1, le=5, description="1 (ignores the question) to 5 (answers all)")
    reason: str = Field(description="one sentence")


def judge_provider() -> str | None:
    """The provider that judges (the one the agent does not use), None without both keys."""
    from settings import get_settings

    settings = get_settings()
    if not (settings.google_api_key and settings.openai_api_key):
        return None
    return "openai" if settings.llm_provider == "gemini" else "gemini"


def judge(*, customer: list[str], sources: list[str], reply: str) -> dict[str, Any]:
    """The judge's verdict on one reply, or {"error": ...} when it could not give one."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from graph.llm import make_chat_model
    from settings import get_settings

    provider = judge_provider()
    if provider is None:
        return {"error": "no judge: it needs both GOOGLE_API_KEY and OPENAI_API_KEY"}
    prompt = (
        "CUSTOMER:\n" + "\n".join(customer) + "\n\nSOURCES:\n" + "\n---\n".join(sources)[:12000]
        + "\n\nREPLY:\n" + reply
    )  # fmt: skip
    try:
        model = make_chat_model(provider, get_settings()).with_structured_output(
            Verdict, method="json_schema"
        )
        verdict = model.invoke([SystemMessage(_INSTRUCTION), HumanMessage(prompt)])
    except Exception as exc:  # a judge that fails leaves the case unjudged, not failed
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}
    assert isinstance(verdict, Verdict)
    return {"provider": provider, **verdict.model_dump()}
