"""Query translation for customers who write in another language than the documents.

When a search finds nothing good, the light model (build_structured_model) rewrites the
query in the languages of the merchant's documents, and the search runs again with those.
Answers are cached per process; the call has a hard time budget
(KNOWLEDGE_TRANSLATION_TIMEOUT_SECONDS), and without a configured model, or when it fails
or is late, the search keeps what it found: translation only ever adds results.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from graph.llm import METERED, LLMNotConfigured, build_structured_model
from observability.logs import get_logger
from settings import get_settings

log = get_logger(__name__)

CACHE_SIZE = 1000
QUERIES_MAX = 3

_INSTRUCTION = """You translate a customer's search of a business's documents.
The documents are written in: {languages}.
Rewrite the search in each of those languages that it is not already written in, as a
short search a person would type: keep names, products, places, numbers and prices; add no
words of your own. If the search is already in every one of those languages, return no
queries."""


class QueryTranslation(BaseModel):
    queries: list[str] = Field(
        description="The search in each document language it is not written in; may be empty."
    )


_cache: OrderedDict[tuple[str, tuple[str, ...]], tuple[str, ...]] = OrderedDict()
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def translations(query: str, languages: list[str]) -> list[str]:
    """`query` in those of `languages` it is not written in; [] without a model, or when
    the model fails or misses the time budget."""
    key = (" ".join(query.split()).casefold(), tuple(sorted(set(languages))))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return list(_cache[key])
    budget = get_settings().knowledge_translation_timeout_seconds
    try:
        found = _executor().submit(_translate, query, list(key[1])).result(timeout=budget)
    except LLMNotConfigured:
        return []
    except FutureTimeout:
        log.warning("knowledge.translation.late", seconds=budget)
        return []
    except Exception as exc:  # the search goes on with what it found
        log.warning("knowledge.translation.failed", error=type(exc).__name__)
        return []
    with _lock:
        _cache[key] = found
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return list(found)


def _translate(query: str, languages: list[str]) -> tuple[str, ...]:
    settings = get_settings()
    # one attempt within the budget: a retry would only come after the caller gave up
    quick = settings.model_copy(
        update={"llm_max_retries": 0, "llm_timeout_seconds": min(
            settings.llm_timeout_seconds, settings.knowledge_translation_timeout_seconds
        )}
    )  # fmt: skip
    model = build_structured_model(quick, QueryTranslation)
    system = _INSTRUCTION.format(languages=", ".join(languages))
    result = model.invoke([SystemMessage(system), HumanMessage(query)], config=METERED)
    assert isinstance(result, QueryTranslation)
    queries = [" ".join(q.split()) for q in result.queries if q.strip()]
    return tuple(q for q in queries if q.casefold() != query.casefold())[:QUERIES_MAX]


def _executor() -> ThreadPoolExecutor:
    """Made on first use, in the process that uses it (workers fork)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="knowledge-translate")
        return _pool


def clear_cache() -> None:
    with _lock:
        _cache.clear()
