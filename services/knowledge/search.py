"""Ranking a merchant's passages for a customer's query, and keeping the index they need.

Each published, customer-facing document is cut into passages (`chunking`), stored in
`document_chunks` with a search vector built, like the query, without accents and with
the text search configuration of the document's language. A query is ranked in steps:

1. Misspelt words are corrected: a query word of 5 letters or more that nothing in the
   merchant's documents matches is replaced by the closest word of its vocabulary
   (`knowledge_terms`) within one edit, two for long words or swapped letters (pg_trgm finds
   candidates, fuzzystrmatch's levenshtein decides): "devolusiones" -> "devoluciones",
   "retrun" -> "return".
2. Each passage matching any query word is scored, from 0 to 1, mostly (0.9) by coverage:
   the share of the query's words it holds, each word weighted by its rarity among the
   merchant's passages (idf, smoothed so that a merchant with three documents is scored
   like one with three hundred), so a passage holding the one telling word of a question
   beats one holding its common words; and a little (0.1) by full-text rank (cover
   density, title words above content words), which orders passages of equal coverage.
3. A document counts once, by its best passage; passages under MIN_SCORE are dropped, so a
   question the documents do not answer finds nothing rather than a passage sharing one
   word with it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from persistence.models import Document, DocumentStatus
from services.knowledge.chunking import chunk

# Below this score a passage is not an answer. Chosen on the evaluation's merchants
# (python -m evals retrieval): false positives 0.78 -> 0.11, at the cost of paraphrases
# that share few words with their answer (recall 0.87 -> 0.67).
MIN_SCORE = 0.3
# The weight of a query word no passage holds, relative to its idf. Lower values find more
# paraphrases but answer questions the documents do not cover (0.35: paraphrase recall
# 0.87, false positives 0.56, measured).
UNKNOWN_WEIGHT = 1.0
TYPO_SIMILARITY = 0.2  # trigram similarity of a candidate correction
TYPO_MIN_CHARS = 5
QUERY_MAX = 1000


@dataclass(frozen=True)
class Passage:
    document_id: int
    title: str
    category: str
    snippet: str
    rank: float


def index_document(session: Session, document: Document, *, searchable: bool) -> None:
    """Cut the document into passages again (none when it is not `searchable` by customers:
    a draft, an internal note, an empty text) and refresh its merchant's vocabulary."""
    session.execute(
        text("DELETE FROM document_chunks WHERE document_id = :id"), {"id": document.id}
    )
    passages = chunk(document.content) if searchable else []
    if passages:
        session.execute(
            text(
                "INSERT INTO document_chunks "
                "(document_id, merchant_id, position, title, language, content) VALUES "
                "(:document_id, :merchant_id, :position, :title, :language, :content)"
            ),
            [
                {"document_id": document.id, "merchant_id": document.merchant_id,
                 "position": position, "title": document.title,
                 "language": document.language, "content": passage}
                for position, passage in enumerate(passages)
            ],
        )  # fmt: skip
    refresh_terms(session, document.merchant_id)


_TERMS = text("""
INSERT INTO knowledge_terms (merchant_id, term)
SELECT DISTINCT :merchant_id, w.term
FROM document_chunks AS c,
     regexp_split_to_table(lower(switchboard_unaccent(c.title || ' ' || c.content)),
                           '[^[:alnum:]]+') AS w(term)
WHERE c.merchant_id = :merchant_id AND length(w.term) BETWEEN 3 AND 64
ON CONFLICT DO NOTHING
""")


def refresh_terms(session: Session, merchant_id: int) -> None:
    """The merchant's vocabulary: every word of its searchable passages. Rebuilt whole on
    each document change (documents change rarely; searches are many). Two changes at
    once may leave a word of a removed passage behind (their deletes do not see each
    other's inserts): harmless, a correction towards it finds nothing."""
    params = {"merchant_id": merchant_id}
    session.execute(text("DELETE FROM knowledge_terms WHERE merchant_id = :merchant_id"), params)
    session.execute(_TERMS, params)


# A query word is left alone when it has digits or under TYPO_MIN_CHARS letters, when the
# merchant's documents use it, when it is a stop word, or when its stem already matches a
# passage (the search finds it). Other words get their closest terms: candidates share
# trigrams with the word (pg_trgm, index-assisted), ranked by edit distance (fuzzystrmatch).
_CANDIDATES = text("""
WITH configs AS (
    SELECT DISTINCT switchboard_ts_config(language) AS cfg
    FROM document_chunks WHERE merchant_id = :merchant_id
),
words AS (
    SELECT DISTINCT word
    FROM regexp_split_to_table(lower(switchboard_unaccent(:query)), '[^[:alnum:]]+') AS word
    WHERE length(word) >= :min_chars AND word !~ '[0-9]'
      AND NOT EXISTS (SELECT 1 FROM knowledge_terms AS k
                      WHERE k.merchant_id = :merchant_id AND k.term = word)
      AND NOT EXISTS (SELECT 1 FROM configs AS c
                      WHERE numnode(plainto_tsquery(c.cfg, word)) = 0)
      AND NOT EXISTS (SELECT 1 FROM document_chunks AS d
                      WHERE d.merchant_id = :merchant_id
                        AND d.search_vector @@ plainto_tsquery(
                            switchboard_ts_config(d.language), word))
)
SELECT w.word, t.term, levenshtein(t.term, w.word) AS edits
FROM words AS w
JOIN knowledge_terms AS t ON t.merchant_id = :merchant_id AND t.term % w.word
WHERE levenshtein(t.term, w.word) <= 2
ORDER BY w.word, edits, similarity(t.term, w.word) DESC, t.term
""")


def _is_misspelling(word: str, term: str, edits: int) -> bool:
    """One edit in a word of 5 to 7 letters, two in a longer one, or two neighbouring
    letters swapped ("retrun"), which is two edits but one slip of the finger."""
    if edits <= (1 if len(word) < 8 else 2):
        return True
    return edits == 2 and len(word) >= 6 and len(word) == len(term) and _swapped(word, term)


def _swapped(word: str, term: str) -> bool:
    diff = [i for i, (a, b) in enumerate(zip(word, term, strict=True)) if a != b]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and word[diff[0]] == term[diff[1]]


def corrected(session: Session, merchant_id: int, query: str) -> str:
    """`query` with its misspelt words replaced by the merchant's closest words."""
    session.execute(
        text("SELECT set_config('pg_trgm.similarity_threshold', :similarity, true)"),
        {"similarity": str(TYPO_SIMILARITY)},
    )
    params = {"merchant_id": merchant_id, "query": query, "min_chars": TYPO_MIN_CHARS}
    corrections: dict[str, str] = {}
    for word, term, edits in session.execute(_CANDIDATES, params):
        if word not in corrections and _is_misspelling(word, term, edits):
            corrections[word] = term
    if not corrections:
        return query
    query = session.scalar(text("SELECT lower(switchboard_unaccent(:q))"), {"q": query}) or ""
    for word, term in corrections.items():
        query = re.sub(rf"\b{re.escape(word)}\b", term, query)
    return query


# Each configuration the merchant's passages use parses the query once (an OR of its
# lexemes to find candidates, and the lexemes one by one to score coverage). `idf` is
# each lexeme's rarity among the merchant's searchable passages of that configuration.
_SEARCH = text("""
WITH candidates AS (
    SELECT c.id, c.document_id, c.title, c.content, c.search_vector, d.category,
           switchboard_ts_config(c.language) AS cfg
    FROM document_chunks AS c
    JOIN documents AS d ON d.id = c.document_id
    WHERE c.merchant_id = :merchant_id
      AND d.status = :published
      AND d.category <> ALL(:internal)
),
configs AS (
    SELECT cfg, count(*) AS passages,
           replace(plainto_tsquery(cfg, switchboard_unaccent(:query))::text, ' & ', ' | ')
               ::tsquery AS any_word
    FROM candidates GROUP BY cfg
),
words AS (
    SELECT cfg, word, CASE WHEN df = 0 THEN :unknown_weight ELSE 1 END
                      * ln(1 + (passages + 1.0) / (0.5 + df)) AS idf
    FROM (
        SELECT c.cfg, c.passages, quote_literal(w.lexeme)::tsquery AS word,
               (SELECT count(*) FROM candidates AS p
                WHERE p.cfg = c.cfg AND p.search_vector @@ quote_literal(w.lexeme)::tsquery) AS df
        FROM configs AS c, unnest(to_tsvector(c.cfg, switchboard_unaccent(:query))) AS w
    ) AS counted
),
scored AS (
    SELECT p.id, p.document_id, p.title, p.category, p.content,
           sum(w.idf) FILTER (WHERE p.search_vector @@ w.word) / nullif(sum(w.idf), 0)
               AS coverage,
           ts_rank_cd(p.search_vector, c.any_word, 1 | 32) AS density
    FROM candidates AS p
    JOIN configs AS c ON c.cfg = p.cfg
    JOIN words AS w ON w.cfg = p.cfg
    WHERE p.search_vector @@ c.any_word
    GROUP BY p.id, p.document_id, p.title, p.category, p.content, p.search_vector, c.any_word
),
best AS (
    SELECT DISTINCT ON (document_id) document_id, title, category, content,
           coverage * 0.9 + density * 0.1 AS score
    FROM scored
    ORDER BY document_id, coverage DESC, density DESC, id
)
SELECT document_id, title, category, content, score
FROM best
WHERE score >= :min_score
ORDER BY score DESC, document_id DESC
LIMIT :limit
""")


def search_passages(
    session: Session,
    *,
    merchant_id: int,
    query: str,
    limit: int,
    internal: Collection[str],
    min_score: float = MIN_SCORE,
) -> list[Passage]:
    """The best passage of each document matching `query` (typos corrected), best first."""
    query = query[:QUERY_MAX]
    if not query.strip() or limit < 1:
        return []
    params = {
        "merchant_id": merchant_id, "query": corrected(session, merchant_id, query),
        "published": DocumentStatus.PUBLISHED.value, "internal": sorted(internal),
        "min_score": min_score, "limit": limit, "unknown_weight": UNKNOWN_WEIGHT,
    }  # fmt: skip
    return [
        Passage(
            document_id=row.document_id,
            title=row.title,
            category=row.category,
            snippet=" ".join(row.content.split()),
            rank=float(row.score),
        )
        for row in session.execute(_SEARCH, params)
    ]
