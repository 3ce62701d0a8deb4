"""Whether an AI can answer right now, so that a handback never leaves a customer, just
served by a person, to a model that cannot reply.

No provider has an API key: no AI. Otherwise the latest turn that asked the model tells:
one that ended with the AI failing (every provider down, a runaway, a stuck turn) not long
ago means the providers are failing now. Older than `FAILURE_MEMORY`, a failure says
nothing about now and the AI is given its chance again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from graph.llm import configured_providers
from persistence.models import Turn, TurnResult
from settings import get_settings

FAILURE_MEMORY = timedelta(minutes=10)
# turns whose outcome says how the model did; silent turns never asked it
_ASKED_THE_MODEL = (
    TurnResult.REPLIED, TurnResult.NO_REPLY, TurnResult.UNSENT,
    TurnResult.NEEDS_HUMAN, TurnResult.ABANDONED, TurnResult.AUTO_ANSWERED,
)  # fmt: skip
# an automatic answer is degraded mode too: the model failed, the knowledge base answered
_AI_FAILED = (TurnResult.NEEDS_HUMAN, TurnResult.ABANDONED, TurnResult.AUTO_ANSWERED)


@dataclass(frozen=True)
class AiAvailability:
    available: bool
    reason: str = ""  # why not, in words for operators


def ai_availability(session: Session) -> AiAvailability:
    if not configured_providers(get_settings()):
        return AiAvailability(False, "no LLM is configured (GOOGLE_API_KEY or OPENAI_API_KEY)")
    last = session.execute(
        select(Turn.outcome, Turn.finished_at)
        .where(Turn.outcome.in_(_ASKED_THE_MODEL))
        .order_by(Turn.id.desc())  # the primary key's index: no scan of every turn
        .limit(1)
    ).first()
    if last is None or last.outcome not in _AI_FAILED or last.finished_at is None:
        return AiAvailability(True)
    if datetime.now(UTC) - last.finished_at > FAILURE_MEMORY:
        return AiAvailability(True)
    return AiAvailability(
        False,
        f"the AI failed to answer at {last.finished_at.astimezone(UTC):%H:%M} UTC "
        "(its LLM providers are failing)",
    )
