"""The running summary of a conversation: the light model folds the messages that leave
the prompt into what must not be forgotten (graph.nodes.memory decides when)."""

from __future__ import annotations

from typing import Annotated

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, BeforeValidator, Field

from graph.llm import METERED, LLMNotConfigured, build_structured_model
from observability.logs import get_logger
from settings import get_settings

log = get_logger(__name__)

_INSTRUCTION = """You keep the memory of a customer-service chat on WhatsApp. Older messages
are about to leave the assistant's view. Update the summary so that nothing that matters is
lost: who the customer is, their language, order or booking numbers, what they want and is
still open, and every promise or commitment the business made (what, by when). Keep what the
previous summary says unless the new messages change it. Be short and factual; no advice."""

# Models sometimes answer null for an empty list.
Items = Annotated[list[str], BeforeValidator(lambda value: value or []), Field(max_length=12)]


class ConversationMemory(BaseModel):
    customer_name: str | None = Field(default=None, description="How the customer is called.")
    language: str | None = Field(default=None, description="The customer's language.")
    order_ids: Items = Field(description="Order, booking or ticket numbers mentioned.")
    open_issues: Items = Field(description="What the customer wants that is not settled yet.")
    promises: Items = Field(description="What the business promised or committed to.")
    facts: Items = Field(description="Other facts about the customer's case worth keeping.")


def summarise(previous: str, lines: list[str]) -> str | None:
    """The summary, updated with `lines`; None when no model answered."""
    prompt = f"Previous summary:\n{previous or '(none)'}\n\nMessages:\n" + "\n".join(lines)
    try:
        model = build_structured_model(get_settings(), ConversationMemory)
        memory = model.invoke(
            [SystemMessage(_INSTRUCTION), HumanMessage(prompt[:20000])], config=METERED
        )
    except LLMNotConfigured:
        return None
    except Exception as exc:  # the old summary stays; the next turn tries again
        log.warning("turn.memory.failed", error=type(exc).__name__)
        return None
    assert isinstance(memory, ConversationMemory)
    return render(memory)


def render(memory: ConversationMemory) -> str:
    lines = []
    if memory.customer_name:
        lines.append(f"Customer: {memory.customer_name}")
    if memory.language:
        lines.append(f"Language: {memory.language}")
    if memory.order_ids:
        lines.append(f"Orders and bookings: {', '.join(memory.order_ids)}")
    for title, items in (
        ("Open", memory.open_issues), ("Promised", memory.promises), ("Facts", memory.facts)
    ):  # fmt: skip
        lines += [f"{title}: {item}" for item in items]
    return "\n".join(" ".join(line.split()) for line in lines)
