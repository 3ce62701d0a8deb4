"""The AI's reply as it goes out: WhatsApp's formatting, measured against the length budget."""

from __future__ import annotations

from channels.text import split_message
from channels.whatsapp_format import to_whatsapp
from observability.logs import get_logger
from observability.metrics import REPLIES_OVER_BUDGET, REPLY_CHARACTERS
from settings import get_settings

log = get_logger(__name__)


def outgoing_reply(reply: str | None, *, role: str) -> str | None:
    """`reply` in WhatsApp formatting. One over REPLY_MAX_CHARS is counted and logged but sent
    whole: a cut answer is worse than a long one, and the prompt is what keeps replies short.
    Beyond WhatsApp's 4096 characters the outbox splits it at paragraph, else sentence, ends.
    Converting is idempotent, so a redone turn writes the same parts."""
    if not reply:
        return reply
    text = to_whatsapp(reply)
    REPLY_CHARACTERS.labels(role).observe(len(text))
    budget = get_settings().reply_max_chars
    if budget and len(text) > budget:
        REPLIES_OVER_BUDGET.labels(role).inc()
        parts = len(split_message(text))
        log.info("turn.reply.over_budget", chars=len(text), budget=budget, parts=parts)
    return text or None
