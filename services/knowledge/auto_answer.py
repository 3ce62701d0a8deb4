"""Answers sent without a model (degraded mode): a published FAQ, sent as it is written,
when it is surely what the customer asked.

With no model, nobody reads the passage before the customer does, so "surely" is strict:

1. the passage search (`search_passages`) scores the document at AUTO_ANSWER_MIN_SCORE or
   more, twice the normal MIN_SCORE: at least about two thirds of the question's weighted
   words are in it, where the model's search accepts one telling word in three and then
   reads what it found;
2. the document is a FAQ entry or a published answer to a customer question, the two
   kinds whose title *is* a question and whose content is its whole answer (a policy or
   a menu answers many questions and none of them alone);
3. the title matches the question both ways (TITLE_MATCH): most of the question's words are
   in the title, and most of the title's words are in the question. A question that only
   shares the topic ("can I return shoes I wore?" against "Returns policy") fails, as it
   should: that answer needs judgement.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from services.conversations.language import base_language
from services.knowledge.knowledge import INTERNAL_CATEGORIES, USER_QUESTION
from services.knowledge.search import MIN_SCORE, search_passages

FAQ = "faq"
AUTO_ANSWER_CATEGORIES = frozenset({FAQ, USER_QUESTION})
AUTO_ANSWER_MIN_SCORE = 2 * MIN_SCORE
TITLE_MATCH = 0.6
_CANDIDATES = 5

# Each side's lexemes, parsed with the document's own configuration (its language's stop
# words and stems) and without accents, as the search index parses them.
_LEXEMES = text("""
SELECT d.id, d.content, d.language,
       ARRAY(SELECT lexeme FROM unnest(to_tsvector(switchboard_ts_config(d.language),
                                                   switchboard_unaccent(:question)))) AS asked,
       ARRAY(SELECT lexeme FROM unnest(to_tsvector(switchboard_ts_config(d.language),
                                                   switchboard_unaccent(d.title)))) AS titled
FROM documents AS d
WHERE d.id = ANY(:ids) AND d.category = ANY(:categories)
""")


@dataclass(frozen=True)
class AutoAnswer:
    document_id: int
    content: str
    language: str
    title_match: float


def confident_answer(
    session: Session, *, merchant_id: int, question: str, language: str | None
) -> AutoAnswer | None:
    """The FAQ document that surely answers `question`, preferring one in the customer's
    `language`; None when none does."""
    passages = search_passages(
        session, merchant_id=merchant_id, query=question, limit=_CANDIDATES,
        internal=INTERNAL_CATEGORIES, min_score=AUTO_ANSWER_MIN_SCORE,
    )  # fmt: skip
    ids = [p.document_id for p in passages if p.category in AUTO_ANSWER_CATEGORIES]
    if not ids:
        return None
    params = {"question": question, "ids": ids, "categories": sorted(AUTO_ANSWER_CATEGORIES)}
    sure = [
        AutoAnswer(row.id, row.content, row.language, match)
        for row in session.execute(_LEXEMES, params)
        if (match := title_match(row.asked, row.titled)) >= TITLE_MATCH
    ]
    if not sure:
        return None
    spoken = base_language(language) if language else None
    return max(sure, key=lambda a: (base_language(a.language) == spoken, a.title_match))


def title_match(asked: list[str], titled: list[str]) -> float:
    """How well a title and a question match, both ways: the smaller of the share of the
    question's words in the title and the share of the title's words in the question."""
    question, title = set(asked), set(titled)
    if not question or not title:
        return 0.0
    common = len(question & title)
    return min(common / len(question), common / len(title))
