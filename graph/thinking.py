"""How much a model thinks before it answers: LLM_THINKING_BUDGET, in each model's own terms.

Thinking is most of a chat turn's latency on today's models (Gemini 2.5 and 3 think by
default, dynamically), and a customer-service answer rarely needs much of it. The budget is
in thinking tokens: -1 leaves every model its own default; 0 asks for as little as the model
allows (none where it can be turned off); more allows up to that many. Each provider
refuses values outside a model's range, so the budget is fitted to the model here; models
that do not think (Gemini 2.0, gpt-4.1) are sent nothing.
"""

from __future__ import annotations

import re
from typing import Any

# Gemini 2.5 thinking budgets: (lowest, highest, can be turned off with 0)
_GEMINI_25_RANGE = {"pro": (128, 32768, False), "flash-lite": (512, 24576, True)}
_GEMINI_25_FLASH = (1, 24576, True)
_GEMINI_VERSION = re.compile(r"gemini-(\d+)(?:\.(\d+))?")
_OPENAI_REASONING = re.compile(r"^(o\d|gpt-5)")
_GPT_5_POINT = re.compile(r"^gpt-5\.\d")  # gpt-5.1 and later can reason not at all


def _level(budget: int) -> str:
    if budget == 0:
        return "minimal"
    return "low" if budget <= 2048 else "medium" if budget <= 8192 else "high"


def gemini_thinking(model: str, budget: int) -> dict[str, Any]:
    """ChatGoogleGenerativeAI arguments: `thinking_budget` for Gemini 2.5, `thinking_level`
    for Gemini 3 and later (which deprecates budgets; sending both is refused)."""
    name = model.lower().removeprefix("models/")
    version = _GEMINI_VERSION.match(name)
    if budget < 0 or version is None:
        return {}
    major, minor = int(version[1]), int(version[2] or 0)
    if major >= 3:
        level = _level(budget)
        if "pro" in name:  # Pro thinks at least "low" and has no "minimal" or "medium"
            level = "low" if level in ("minimal", "low", "medium") else "high"
        return {"thinking_level": level}
    if (major, minor) != (2, 5):
        return {}  # no thinking to bound
    kind = "flash-lite" if "flash-lite" in name else "pro" if "pro" in name else "flash"
    lowest, highest, can_stop = _GEMINI_25_RANGE.get(kind, _GEMINI_25_FLASH)
    if budget == 0 and can_stop:
        return {"thinking_budget": 0}
    return {"thinking_budget": min(max(budget, lowest), highest)}


def is_openai_reasoning(model: str) -> bool:
    """o-series and gpt-5 models (not gpt-5-chat): they take `reasoning_effort` and refuse a
    temperature other than the default."""
    name = model.lower()
    return bool(_OPENAI_REASONING.match(name)) and "chat" not in name


def openai_reasoning(model: str, budget: int) -> dict[str, Any]:
    """ChatOpenAI arguments: `reasoning_effort` for reasoning models, nothing for others."""
    if budget < 0 or not is_openai_reasoning(model):
        return {}
    effort = _level(budget)
    if effort == "minimal":
        name = model.lower()
        effort = "none" if _GPT_5_POINT.match(name) else "low" if name[0] == "o" else effort
    return {"reasoning_effort": effort}
