"""What the checkpointer keeps per conversation."""

from typing import Annotated, Literal, Protocol, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime

from graph.context import TurnContext

# How a graph run ended; kept as plain strings in the checkpoint (strict msgpack), and the
# same values as persistence.models.TurnResult.
GraphOutcome = Literal["replied", "silent", "needs_human", "auto_answered", "no_reply"]


class TeamNote(TypedDict):
    """A note from the support team or the system: context the customer never sees and
    cannot write. Kept out of `messages` (which hold what the customer and the business
    said), so it reaches the model only in the system prompt."""

    id: int
    turn_id: int  # the turn it arrived in: "new" for that turn, earlier after
    text: str


class ConversationState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    # the last turn folded into `messages`: a redone turn must not add its input twice
    turn_id: int
    # operator and system messages are folded in by id, once
    last_note_id: int
    # the latest notes, oldest first (graph.nodes.load.NOTES_KEPT)
    team_notes: list[TeamNote]
    # this turn brought new notes and no customer message (a staff answer to relay)
    notes_only: bool
    # what the summary says of the first `summarised` messages, which may be out of the
    # prompt by now (graph.nodes.memory)
    summary: str
    summarised: int
    # the reply this turn produced (None: nothing to send), and why
    reply: str | None
    # when the AI failed: what to tell the customer instead, or None: a knowledge-base
    # answer (outcome auto_answered) or the holding message (needs_human, once per escalation)
    holding: str | None
    outcome: GraphOutcome
    # whether the AI answers this turn, read with the turn's input (graph.nodes.route)
    answers: bool


# The node signatures LangGraph's `add_node` accepts: it matches parameters by name (`state`,
# and `runtime` by keyword), which a plain `Callable[[...], dict]` does not promise.
class StateNode(Protocol):
    def __call__(self, state: ConversationState) -> dict: ...


class RuntimeNode(Protocol):
    def __call__(self, state: ConversationState, *, runtime: Runtime[TurnContext]) -> dict: ...
