"""The pure parts of degraded mode: how a title matches a question, and what is looked up."""

from __future__ import annotations

from types import SimpleNamespace

from services.knowledge.auto_answer import TITLE_MATCH, title_match
from services.turns.degraded import questions


def _burst(*texts: str) -> list:
    return [SimpleNamespace(text=t, transcript=None) for t in texts]


def test_a_title_matches_a_question_only_both_ways():
    assert title_match(["open", "hour"], ["open", "hour"]) == 1.0
    assert title_match(["hi", "open", "hour"], ["open", "hour"]) >= TITLE_MATCH
    # the topic alone: most of the question is not in the title
    assert title_match(["return", "shoe", "wore", "twice"], ["return", "polici"]) < TITLE_MATCH
    # a broad title: most of the title is not in the question
    assert title_match(["ship"], ["ship", "time", "cost", "countri"]) < TITLE_MATCH
    assert title_match([], ["ship"]) == 0.0


def test_the_whole_burst_then_each_message_then_each_sentence_is_looked_up():
    assert questions(_burst("Hi! What are your opening hours?")) == [
        "Hi! What are your opening hours?", "What are your opening hours?", "Hi!",
    ]  # fmt: skip
    assert questions(_burst("hola", "¿Abrís el domingo?")) == [
        "hola ¿Abrís el domingo?", "¿Abrís el domingo?", "hola", "Abrís el domingo?",
    ]  # fmt: skip
    assert questions(_burst("", "  ")) == []
