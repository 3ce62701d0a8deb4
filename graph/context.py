"""Per-run facts: which merchant, which conversation, who is talking. Never globals."""

from dataclasses import dataclass
from typing import Literal

from graph.ports import TurnReading

Role = Literal["customer", "admin"]


@dataclass(frozen=True)
class TurnContext:
    conversation_id: int
    turn_id: int
    merchant_id: int
    merchant_name: str
    merchant_description: str
    tone: str
    default_language: str
    customer_name: str | None
    customer_language: str | None
    role: Role = "customer"
    greeting: str = ""  # the merchant's chosen opening line for new conversations
    ai_rules: str = ""  # the merchant's "things the AI must never do", one per line
    attempt: int = 1  # 2+: a redo after a crash; the graph may have run already
    staff_type: str | None = None  # for admin conversations: admin, sales, returns...
    staff_user_id: int | None = None  # the merchant user behind an admin conversation
    # admin conversations: the requests waiting for this staff member, one line each
    open_requests: tuple[str, ...] = ()
    # the merchant's media library as (key, kind, caption): what respond_with_media can send
    media_library: tuple[tuple[str, str, str], ...] = ()
    # the merchant has a store connected: the commerce tools and rules are offered
    store_connected: bool = True
    # customer conversations: their questions the team has not answered yet, one line each
    pending_questions: tuple[str, ...] = ()
    # the merchant's time zone (IANA), its local time now and its opening hours, in words
    timezone: str = "UTC"
    local_time: str = ""
    opening_hours: str = ""
    reply_max_chars: int = 700  # the length the prompt asks replies to keep within
    # time.monotonic() after which no model is asked (TURN_DEADLINE_SECONDS from the turn's
    # start); None: no deadline
    deadline: float | None = None
    # the burst has files still to fetch or voice notes to transcribe before the model runs
    media_to_prepare: bool = True
    # the turn's input, read with its start when nothing could change it before the graph
    # runs (graph.ports.TurnReading.notes_after); None: the load step reads it
    reading: TurnReading | None = None
