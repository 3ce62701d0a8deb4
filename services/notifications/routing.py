"""Which staff type handles a support request: a small model reads the merchant's
support-classification documents; no match, no documents or no model means admins."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from graph.llm import METERED, LLMNotConfigured, build_structured_model
from observability.logs import get_logger
from settings import get_settings

log = get_logger(__name__)

ADMIN = "admin"

_INSTRUCTION = """You route customer support requests to the right team of a business.
Teams and what they handle:
{teams}
Pick the one team that should handle the request below; if none fits, pick "{admin}".
Also name the kind of request in two or three words (for example "Refund request")."""


class SupportRoute(BaseModel):
    user_type: str = Field(description="The team, exactly as listed.")
    request_type: str = Field(description="The kind of request, two or three words.")


@dataclass(frozen=True)
class Route:
    user_type: str
    request_type: str


def classify(reason: str, guides: list[tuple[str, str]], staff_types: set[str]) -> Route:
    """The staff type for `reason`; `guides` are (team, what it handles) from the
    merchant's support-classification documents."""
    teams = {team.strip().lower(): text.strip() for team, text in guides if team.strip()}
    if not teams:
        return Route(ADMIN, "Support request")
    listing = "\n".join(f"- {team}: {description}" for team, description in teams.items())
    system = _INSTRUCTION.format(teams=listing, admin=ADMIN)
    try:
        model = build_structured_model(get_settings(), SupportRoute)
        result = model.invoke([SystemMessage(system), HumanMessage(reason[:2000])], config=METERED)
    except LLMNotConfigured:
        return Route(ADMIN, "Support request")
    except Exception as exc:  # routing to admins is always safe
        log.warning("notification.classify.failed", error=type(exc).__name__)
        return Route(ADMIN, "Support request")
    assert isinstance(result, SupportRoute)
    chosen = result.user_type.strip().lower()
    request_type = " ".join(result.request_type.split())[:60] or "Support request"
    if chosen not in teams and chosen not in staff_types:
        log.info("notification.classify.unknown_team", team=chosen[:40])
        chosen = ADMIN
    return Route(chosen, request_type)
