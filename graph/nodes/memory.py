"""What a conversation keeps beyond the prompt's token budget.

Older messages fall out of the prompt (`budgeted_history`); before they do, a light model
folds them into a running summary (name, language, order numbers, open issues, promises),
which the system prompt carries from then on, so an order number or a promise is never
simply cut. And a tool's result keeps its findings, not the instructions that were meant
for the turn it ran in (tools return those as their artifact).
"""

from __future__ import annotations

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

from graph.ports import TurnServices
from graph.state import ConversationState

# Each message's share of what the summariser reads.
_MESSAGE_CHARS = 600


def remember(
    state: ConversationState, dropped: int, role: str, services: TurnServices
) -> dict:
    """The state update that folds the messages newly out of the prompt (the first
    `dropped` ones) into the summary; empty when there are none or the summariser failed."""
    summarised = state.get("summarised", 0)
    if dropped <= summarised:
        return {}
    messages = state.get("messages", [])[summarised:dropped]
    lines = [line for message in messages if (line := _line(message, role))]
    if not lines:
        return {"summarised": dropped}
    summary = services.summarise(state.get("summary", ""), lines)
    return {"summary": summary, "summarised": dropped} if summary is not None else {}


def _line(message: AnyMessage, role: str) -> str:
    text = message.text.strip()[:_MESSAGE_CHARS]
    if isinstance(message, HumanMessage):
        return f"{'Staff member' if role == 'admin' else 'Customer'}: {text}" if text else ""
    if isinstance(message, AIMessage):
        return f"You: {text}" if text else ""
    if isinstance(message, ToolMessage):
        return f"Tool {message.name or ''} result: {text}" if text else ""
    return ""


def settled(messages: list[AnyMessage]) -> list[ToolMessage]:
    """This turn's tool results as the conversation keeps them: their artifact (findings)
    in place of the content (findings and instructions for this turn)."""
    return [
        ToolMessage(
            content=message.artifact, artifact=message.artifact, id=message.id,
            tool_call_id=message.tool_call_id, name=message.name,
        )  # fmt: skip
        for message in messages
        if isinstance(message, ToolMessage)
        and isinstance(message.artifact, str)
        and message.content != message.artifact
    ]
