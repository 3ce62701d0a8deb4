"""The agent step: system prompt + budgeted history -> the model (with tools)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Literal

from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.utils import count_tokens_approximately, trim_messages
from langchain_core.runnables import Runnable
from langgraph.runtime import Runtime

from graph.context import TurnContext
from graph.llm import CUE_ID_PREFIX, LLMNotConfigured, LLMUnavailable, invoke_agent_model
from graph.nodes.memory import remember, settled
from graph.ports import TurnServices
from graph.prompts import context_note, system_prompt
from graph.state import ConversationState, RuntimeNode
from observability.logs import get_logger

log = get_logger(__name__)

AgentModel = Runnable[Sequence[BaseMessage], AIMessage]

NOTES_CUE = (
    "[No new message from the customer. New notes arrived; act on them now (relay an answer "
    "they bring), or say nothing if they need no message.]"
)


# A history that outgrows the budget is cut to this share of it, not just below it: the
# summariser (a light-model call before the answer) then runs once every several turns
# rather than on nearly every turn of a long conversation.
REFOLD_SHARE = 0.7


def budgeted_history(messages: list[AnyMessage], max_tokens: int) -> list[BaseMessage]:
    """The newest messages that fit the token budget, starting on a human turn."""
    return trim_messages(
        messages,
        max_tokens=max_tokens,
        strategy="last",
        token_counter=count_tokens_approximately,
        start_on="human",
        allow_partial=False,
    )


def prompt_start(messages: list[AnyMessage], max_tokens: int, summarised: int) -> int:
    """Where the prompt's history starts: where it started last turn (after the messages
    already summarised) while that still fits the budget, else at the newest messages
    filling REFOLD_SHARE of it."""
    kept = messages[summarised:]
    if kept and kept[0].type == "human" and count_tokens_approximately(kept) <= max_tokens:
        return summarised
    return len(messages) - len(budgeted_history(messages, int(max_tokens * REFOLD_SHARE)))


def make_agent_node(
    model_for: Callable[[TurnContext], AgentModel | None],
    services: TurnServices,
    max_tokens: int,
    history_max_messages: int,
) -> RuntimeNode:
    def agent(state: ConversationState, runtime: Runtime[TurnContext]) -> dict:
        ctx = runtime.context
        messages = state.get("messages", [])
        start = prompt_start(messages, max_tokens, state.get("summarised", 0))
        history = messages[start:]
        memory = remember(state, start, ctx.role, services)
        summary = memory.get("summary", state.get("summary", ""))
        media = with_turn_media(history, ctx.turn_id, services)
        notes = state.get("team_notes", [])
        cue = _notes_cue(ctx) if state.get("notes_only") and _ends_on_us(media) else []
        prompt = [SystemMessage(system_prompt(ctx, notes)), *turn_facts(ctx, summary), *media, *cue]
        try:
            model = model_for(ctx)
            if model is None:
                raise LLMNotConfigured("no LLM provider has an API key")
            reply = invoke_agent_model(model, prompt, deadline=ctx.deadline)
        except (LLMNotConfigured, LLMUnavailable) as exc:
            log.warning("turn.llm.failed", error=type(exc).__name__)
            holding, outcome = services.answer_without_model(
                conversation_id=ctx.conversation_id, turn_id=ctx.turn_id,
                reason=f"The AI could not answer: {exc}",
            )  # fmt: skip
            failed = {"reply": None, "holding": holding, "outcome": outcome, **memory}
            return finished(state, failed, ctx.role, history_max_messages)
        update = {"messages": [reply], "reply": "", "outcome": "replied", **memory}
        if reply.tool_calls:
            return update  # after_agent: the tools run, then the model again
        return finished(state, update, ctx.role, history_max_messages)

    return agent


def _ends_on_us(history: list[BaseMessage]) -> bool:
    """Whether the prompt ends on the business's side (no person's words, no tool result)."""
    return not history or not isinstance(history[-1], (HumanMessage, ToolMessage))


def _notes_cue(ctx: TurnContext) -> list[BaseMessage]:
    """A turn started by new notes alone (a staff answer to relay) has no customer message
    to end the prompt on; this says why the model is asked. Written in brackets, which
    customer text never contains, and never kept in the state."""
    return [HumanMessage(NOTES_CUE, id=f"{CUE_ID_PREFIX}{ctx.turn_id}")]


def turn_facts(ctx: TurnContext, summary: str = "") -> list[BaseMessage]:
    """What customers control (a profile name, the questions waiting for staff, the summary
    of what they said earlier) reaches the model as a user message of quoted data, never in
    the system prompt. Not checkpointed."""
    note = context_note(ctx, summary)
    return [HumanMessage(content=note, id="context")] if note else []


def with_turn_media(
    history: Sequence[BaseMessage], turn_id: int, services: TurnServices
) -> list[BaseMessage]:
    """Attach this turn's images (and audio/PDF where the provider takes them) to the prompt."""
    result: list[BaseMessage] = []
    for message in history:
        extra = message.additional_kwargs if isinstance(message, HumanMessage) else {}
        if extra.get("turn_id") == turn_id and extra.get("media_ids"):
            blocks = services.media_blocks(extra["media_ids"])
            if blocks:
                text = {"type": "text", "text": message.text}
                message = HumanMessage(content=[text, *blocks], id=message.id)
        result.append(message)
    return result


def after_agent(
    state: ConversationState, runtime: Runtime[TurnContext]
) -> Literal["customer_tools", "admin_tools", "__end__"]:
    last = state["messages"][-1] if state.get("messages") else None
    if state.get("reply", "") is None or not (isinstance(last, AIMessage) and last.tool_calls):
        return "__end__"  # END: the agent step finished the turn (finished)
    # Each role has its own tool node: a customer's model can never run an admin tool,
    # even if it names one.
    return "admin_tools" if runtime.context.role == "admin" else "customer_tools"


# Internal references the customer must never see, whatever the model writes.
_INTERNAL_REFERENCE = re.compile(r"\s*\[doc \d+\]|\bNOTIF_\d+\b")


def without_internal_references(text: str) -> str:
    text = re.sub(r"\(\s*\)", "", _INTERNAL_REFERENCE.sub("", text))  # "(NOTIF_4)"
    return re.sub(r"[ \t]{2,}", " ", text).replace(" .", ".").strip()


def finished(state: ConversationState, update: dict, role: str, keep: int) -> dict:
    """`update` (the agent step's, with no tool call left) finishing the turn: the reply to
    send and the outcome, this turn's tool results settled, the oldest messages forgotten.
    Done in the agent step: a graph step of its own cost a turn about 1 ms of LangGraph's."""
    messages = [*state.get("messages", []), *update.get("messages", [])]
    last = messages[-1] if messages else None
    failed = update["reply"] is None
    reply = "" if failed or not isinstance(last, AIMessage) else last.text.strip()
    if role == "customer":  # staff answer requests by their NOTIF_ id
        reply = without_internal_references(reply)
    if failed:
        reply = update.get("holding") or ""
    outcome = update["outcome"] if failed else ("replied" if reply else "no_reply")
    summarised = update.get("summarised", state.get("summarised", 0))
    cut = _forgotten(messages, summarised, keep)
    return {
        **update,
        "reply": reply or None,
        "holding": None,
        "outcome": outcome,
        "messages": [
            *update.get("messages", []),
            *settled(messages),
            *(RemoveMessage(id=m.id) for m in cut if m.id),
        ],
        "summarised": max(0, summarised - len(cut)),
    }


def _forgotten(messages: list[AnyMessage], summarised: int, keep: int) -> list[AnyMessage]:
    """The oldest messages to forget: those the summary covers (no prompt carries them
    again, and every turn would load and write them back), and any beyond `keep` (the
    summariser has been failing). The database keeps the full record."""
    cut = max(summarised, len(messages) - keep)
    if cut <= 0:
        return []
    while cut < len(messages) and messages[cut].type != "human":
        cut += 1  # never start the kept history on a tool result or an AI message
    return messages[:cut]
