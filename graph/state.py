"""What the checkpointer keeps per conversation."""

from typing import Annotated, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


class ConversationState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    # the last turn folded into `messages`: a redone turn must not add its input twice
    turn_id: int
    # operator and system messages are folded in by id, once
    last_note_id: int
    # the reply this turn produced (None: nothing to send), and why
    reply: str | None
    # when the AI failed: what to tell the customer instead (once per escalation), or None
    holding: str | None
    outcome: str  # replied | silent | needs_human | no_reply
