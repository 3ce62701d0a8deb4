"""Staff answers rewritten for the customer, in the customer's language, by a small model.

Two variants (structured output): a continuation fragment that completes a template
sentence, and a full sentence for a normal chat message. Without a model, the staff's own
words go out unchanged: an answer is never held back for want of polish.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from graph.llm import METERED, LLMNotConfigured, build_structured_model
from observability.logs import get_logger
from settings import get_settings

log = get_logger(__name__)

_INSTRUCTION = """You rewrite answers from a business's staff for its customer on WhatsApp.
Business: {merchant}.
Write in the customer's language: the language of the customer's own messages below
(if there are none, use {language}). Be professional, warm and concise; keep every fact,
number, date and link of the staff's answer, add none, and drop internal remarks.
Return:
- language: the ISO 639-1 code of the language you wrote in;
- continuation_fragment: the answer as a fragment that completes the sentence
  "{lead_in}" (no greeting, no sign-off, no line breaks);
- full_sentence: the answer as one or two complete sentences the business would send."""


class LocalizedAnswer(BaseModel):
    language: str = Field(description="ISO 639-1 code of the language written in, e.g. en, es")
    continuation_fragment: str = Field(description="Completes the template's sentence.")
    full_sentence: str = Field(description="A standalone message to the customer.")


@dataclass(frozen=True)
class Localized:
    language: str
    fragment: str
    sentence: str
    by_model: bool


def localize(
    *,
    answer: str,
    merchant_name: str,
    customer_texts: list[str],
    fallback_language: str,
    lead_in: str,
) -> Localized:
    plain = Localized(fallback_language, " ".join(answer.split()), answer.strip(), False)
    settings = get_settings()
    system = _INSTRUCTION.format(
        merchant=merchant_name, language=fallback_language, lead_in=lead_in
    )
    said = "\n".join(f"- {text[:300]}" for text in customer_texts[-5:]) or "(none)"
    prompt = f"The customer's recent messages:\n{said}\n\nThe staff's answer:\n{answer}"
    try:
        model = build_structured_model(settings, LocalizedAnswer)
        result = model.invoke([SystemMessage(system), HumanMessage(prompt)], config=METERED)
    except LLMNotConfigured:
        return plain
    except Exception as exc:  # the answer goes out in the staff's words
        log.warning("notification.localize.failed", error=type(exc).__name__)
        return plain
    assert isinstance(result, LocalizedAnswer)
    fragment = " ".join(result.continuation_fragment.split()) or plain.fragment
    sentence = result.full_sentence.strip() or plain.sentence
    language = result.language.strip().lower()[:16] or fallback_language
    return Localized(language, fragment, sentence, True)
