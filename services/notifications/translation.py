"""Staff read a customer's request in their own language too: the light model translates
what was asked into the merchant's language when the customer wrote in another one."""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from graph.llm import METERED, LLMNotConfigured, build_structured_model
from observability.logs import get_logger
from services.conversations.language import base_language, detect_language
from settings import get_settings

log = get_logger(__name__)

_INSTRUCTION = (
    "Translate the customer's request below into the language with code {target!r}, "
    "faithfully and completely: keep names, numbers and product names as they are. Only "
    "translate; do not answer it."
)


class Translation(BaseModel):
    translation: str = Field(description="The request, translated.")


def needs_translation(text: str, customer_language: str | None, staff_language: str) -> bool:
    """Whether the request is written in another language than the staff's."""
    written = detect_language(text, prior=customer_language) or customer_language
    return written is not None and base_language(written) != base_language(staff_language)


def translate(text: str, target: str) -> str | None:
    """`text` in `target`, or None when no model could say (the original still goes out)."""
    try:
        model = build_structured_model(get_settings(), Translation)
        prompt = [SystemMessage(_INSTRUCTION.format(target=target)), HumanMessage(text[:2000])]
        result = model.invoke(prompt, config=METERED)
    except LLMNotConfigured:
        return None
    except Exception as exc:  # the staff still get the original
        log.warning("notification.translate.failed", error=type(exc).__name__)
        return None
    assert isinstance(result, Translation)
    translated = " ".join(result.translation.split())[:1000]
    return translated or None
