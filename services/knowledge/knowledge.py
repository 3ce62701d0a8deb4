"""The merchant's knowledge base: documents the AI searches before answering or escalating.

Documents are written here; customers' searches run over their passages (`search`): typo
correction, accent-free full text in each document's language, a minimum score, and query
translation by the light model when a search in the customer's words finds nothing good.
The operators' document list still searches whole documents (`documents.search_vector`).
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from persistence.models import Document, DocumentStatus
from services.errors import InvalidInput, NotFound
from services.knowledge import translation
from services.knowledge.personal_data import find_personal_data
from services.knowledge.search import Passage, index_document, refresh_terms, search_passages
from services.merchants.merchant import get_merchant

GENERAL = "general"
# Lasting public facts drafted from the team's answers to customers' questions. They start
# as drafts; a person publishes them, and only if they carry no personal detail.
USER_QUESTION = "user_question"
# Which staff type handles what (title "returns", content "refunds, returns, damaged goods"):
# used to route support requests, never shown to customers.
SUPPORT_CLASSIFICATION = "support_classification"
INTERNAL_CATEGORIES = frozenset({SUPPORT_CLASSIFICATION})

TITLE_MAX = 500
CONTENT_MAX = 100_000
CATEGORY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
LANGUAGE_PATTERN = r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})?$"

_RANK_NORMALIZATION = 1 | 32  # divide by 1 + log(length), then scale to 0..1
# A search whose best passage scores under this asks for a translation of the query.
TRANSLATE_BELOW = 0.5


def create_document(
    session: Session,
    *,
    merchant_id: int,
    title: str,
    content: str = "",
    category: str = GENERAL,
    language: str | None = None,
    status: DocumentStatus = DocumentStatus.PUBLISHED,
    review_note: str | None = None,
) -> Document:
    """Add a document; its language defaults to the merchant's default language."""
    merchant = get_merchant(session, merchant_id)
    document = Document(
        merchant_id=merchant_id,
        title=_title(title),
        content=_content(content),
        category=_category(category),
        language=_language(language, fallback=merchant.default_language),
        status=DocumentStatus.DRAFT,
        review_note=review_note,
    )
    session.add(document)
    if status == DocumentStatus.PUBLISHED:
        _publish(document)
    session.flush()
    _index(session, document)
    return document


def get_document(session: Session, document_id: int, merchant_id: int | None = None) -> Document:
    """The document, or NotFound (also when it belongs to another merchant than `merchant_id`)."""
    document = session.get(Document, document_id)
    if document is None or (merchant_id is not None and document.merchant_id != merchant_id):
        raise NotFound(f"document {document_id} does not exist")
    return document


def update_document(
    session: Session,
    document_id: int,
    *,
    merchant_id: int | None = None,
    title: str | None = None,
    content: str | None = None,
    category: str | None = None,
    language: str | None = None,
    status: DocumentStatus | None = None,
) -> Document:
    """Change the given fields (None: unchanged); the search vector follows by itself.
    A published document stays published only while it passes the publishing checks."""
    document = get_document(session, document_id, merchant_id)
    if title is not None:
        document.title = _title(title)
    if content is not None:
        document.content = _content(content)
    if category is not None:
        document.category = _category(category)
    if language is not None:
        document.language = _language(language, fallback=document.language)
    if status == DocumentStatus.DRAFT:
        document.status = DocumentStatus.DRAFT
    elif status == DocumentStatus.PUBLISHED or document.status == DocumentStatus.PUBLISHED:
        _publish(document)
    session.flush()
    _index(session, document)
    return document


def publish_document(
    session: Session, document_id: int, merchant_id: int | None = None
) -> Document:
    """Make a draft searchable by the AI (a person's decision, after review)."""
    document = get_document(session, document_id, merchant_id)
    _publish(document)
    session.flush()
    _index(session, document)
    return document


def _publish(document: Document) -> None:
    """Facts drafted from answers to one customer are published only without personal
    details: what the team told one customer must never be offered to the next."""
    if document.category == USER_QUESTION:
        found = find_personal_data(f"{document.title}\n{document.content}")
        if found:
            raise InvalidInput(
                "this document looks like it holds personal details "
                f"({', '.join(found)}); rewrite it as a general fact before publishing"
            )
    document.status = DocumentStatus.PUBLISHED
    document.review_note = None


def delete_document(session: Session, document_id: int, merchant_id: int | None = None) -> None:
    document = get_document(session, document_id, merchant_id)
    session.delete(document)
    session.flush()
    refresh_terms(session, document.merchant_id)


def _index(session: Session, document: Document) -> None:
    """Only published, customer-facing documents with content are cut into passages."""
    searchable = (
        document.status == DocumentStatus.PUBLISHED
        and document.category not in INTERNAL_CATEGORIES
        and bool(document.content)
    )
    index_document(session, document, searchable=searchable)


def list_documents(
    session: Session,
    *,
    merchant_id: int | None = None,
    category: str | None = None,
    status: DocumentStatus | None = None,
    query: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Document]:
    """Every category, drafts too unless `status` says. With `query` (web search syntax:
    all words, "a phrase", -excluded), the best matches first; without, the newest first."""
    stmt = select(Document)
    if merchant_id is not None:
        get_merchant(session, merchant_id)
        stmt = stmt.where(Document.merchant_id == merchant_id)
    if category is not None:
        stmt = stmt.where(Document.category == category.lower())
    if status is not None:
        stmt = stmt.where(Document.status == status)
    if query and query.strip():
        tsquery = func.websearch_to_tsquery(func.switchboard_ts_config(Document.language), query)
        rank = func.ts_rank_cd(Document.search_vector, tsquery, _RANK_NORMALIZATION)
        stmt = stmt.where(Document.search_vector.op("@@")(tsquery)).order_by(rank.desc())
    else:
        stmt = stmt.order_by(Document.created_at.desc())
    stmt = stmt.order_by(Document.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def count_drafts(session: Session, merchant_id: int) -> int:
    """Drafts waiting for a person to review them."""
    stmt = select(func.count()).where(
        Document.merchant_id == merchant_id, Document.status == DocumentStatus.DRAFT
    )
    return session.scalar(stmt) or 0


def classification_documents(session: Session, merchant_id: int) -> list[Document]:
    """The merchant's support routing: which staff type (title) handles what (content)."""
    stmt = (
        select(Document)
        .where(Document.merchant_id == merchant_id, Document.category == SUPPORT_CLASSIFICATION)
        .order_by(Document.title, Document.id)
    )
    return list(session.scalars(stmt))


def search(
    session: Session, *, merchant_id: int, query: str, limit: int = 3, translate: bool = False
) -> list[Passage]:
    """The merchant's customer-facing passages that best match `query`, best first, one per
    document, none under the minimum score. With `translate`, a query that finds nothing
    good is also searched in the languages of the merchant's documents (light model)."""
    found = _search(session, merchant_id, query, limit)
    if not translate or not query.strip() or (found and found[0].rank >= TRANSLATE_BELOW):
        return found
    languages = document_languages(session, merchant_id)
    best = {p.document_id: p for p in found}
    for translated in translation.translations(query, languages) if languages else []:
        for passage in _search(session, merchant_id, translated, limit):
            known = best.get(passage.document_id)
            if known is None or passage.rank > known.rank:
                best[passage.document_id] = passage
    return sorted(best.values(), key=lambda p: (-p.rank, -p.document_id))[:limit]


def _search(session: Session, merchant_id: int, query: str, limit: int) -> list[Passage]:
    return search_passages(
        session, merchant_id=merchant_id, query=query, limit=limit, internal=INTERNAL_CATEGORIES
    )


def document_languages(session: Session, merchant_id: int) -> list[str]:
    """The languages of the merchant's customer-facing published documents."""
    stmt = (
        select(Document.language)
        .where(
            Document.merchant_id == merchant_id,
            Document.status == DocumentStatus.PUBLISHED,
            Document.category.not_in(INTERNAL_CATEGORIES),
        )
        .distinct()
        .order_by(Document.language)
    )
    return list(session.scalars(stmt))


def _title(title: str) -> str:
    title = title.strip()
    if not title or len(title) > TITLE_MAX:
        raise InvalidInput(f"a document title needs 1 to {TITLE_MAX} characters")
    return title


def _content(content: str) -> str:
    if len(content) > CONTENT_MAX:
        raise InvalidInput(f"a document's content may be at most {CONTENT_MAX} characters")
    return content.strip()


def _category(category: str) -> str:
    if not re.fullmatch(CATEGORY_PATTERN, category):
        raise InvalidInput(f"invalid category {category!r}: 1 to 32 letters, digits, '-' or '_'")
    return category.lower()


def _language(language: str | None, *, fallback: str) -> str:
    """A language code as given, or `fallback` for anything else: codes also come from a
    model's guess of the customer's language, and a document must not be lost for that.
    The API refuses what does not look like a code."""
    language = (language or "").strip()
    return language if re.fullmatch(LANGUAGE_PATTERN, language) else fallback[:16]
