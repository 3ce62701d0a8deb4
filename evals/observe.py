"""What a turn did, read from where it left its traces: the chat requests the model got
(the simulator's log), the tool calls it made and what they returned, the rows written,
and the messages WhatsApp was asked to deliver (the Graph API simulator)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import select

from channels.simulators.llm import estimate_tokens

MARKDOWN = re.compile(r"\*\*|^#{1,6} |\[[^\]]+\]\([^)]+\)", re.MULTILINE)
WHATSAPP_MAX_CHARS = 4096


@dataclass
class Observed:
    status: str = ""
    sent: list[str] = field(default_factory=list)  # texts WhatsApp delivered to the customer
    calls: list[dict[str, Any]] = field(default_factory=list)  # {"tool", "args"} executed
    tool_outputs: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)  # each request: system + messages
    systems: list[str] = field(default_factory=list)
    thinking: list[int | None] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)  # questions for the team, open
    support_requests: int = 0
    needs_human: bool = False
    mode: str = ""
    customer_language: str | None = None
    seconds: float = 0.0
    tokens: int = 0
    exhausted: bool = False
    live: bool = False  # what the model was shown is known in replay only

    @property
    def reply(self) -> str:
        return "\n".join(self.sent)

    @property
    def escalated(self) -> bool:
        return self.needs_human or bool(self.questions) or self.support_requests > 0


def model_side(observed: Observed, llm: Any, requests: list[dict[str, Any]],
               answered: list[dict[str, Any]]) -> None:  # fmt: skip
    """Fill in what the model was shown and what it called, from the chat requests."""
    for request in requests:
        system = llm.system_text(request)
        observed.systems.append(system)
        observed.prompts.append(system + "\n" + "\n".join(llm.user_texts(request)))
        thinking = type(llm).thinking(request) if hasattr(type(llm), "thinking") else None
        observed.thinking.append(thinking["budget"] if thinking else None)
        observed.tokens += estimate_tokens(llm.prompt_chars(request))
    observed.tool_outputs = llm.tool_outputs(requests[-1]) if requests else []
    observed.calls = [s for s in answered if "tool" in s]
    observed.tokens += sum(estimate_tokens(len(str(s))) for s in answered)


def database_side(observed: Observed, conversation_id: int) -> None:
    from persistence.db import session_scope
    from persistence.models import Conversation, Customer, Notification

    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        observed.needs_human = bool(conversation.needs_human)
        observed.mode = str(conversation.mode)
        customer = session.get(Customer, conversation.customer_id)
        observed.customer_language = getattr(customer, "language", None)
        notifications = session.scalars(
            select(Notification).where(Notification.conversation_id == conversation_id)
        ).all()
        observed.questions = [
            str(n.context.get("question", "")) for n in notifications
            if n.type == "user_question_request"
        ]  # fmt: skip
        observed.support_requests = sum(
            1 for n in notifications if n.type == "user_support_request"
        )


def language_of(text: str) -> str | None:
    """en, es or pt for a text long enough to tell; None otherwise."""
    if sum(c.isalpha() for c in text) < 12:
        return None
    language, confidence = _identifier().classify(text)
    return str(language) if confidence >= 0.6 else None


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(["en", "es", "pt", "fr", "it", "de"])
    return identifier


def format_problems(texts: list[str]) -> list[str]:
    """Markdown WhatsApp would show as symbols, and messages over WhatsApp's limit."""
    problems = []
    for text in texts:
        if match := MARKDOWN.search(text):
            problems.append(f"markdown {match.group(0)!r}")
        if len(text) > WHATSAPP_MAX_CHARS:
            problems.append(f"{len(text)} characters")
    return problems


def duplicates(texts: list[str]) -> int:
    return len(texts) - len(set(texts))
