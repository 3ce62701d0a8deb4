"""The knowledge base: documents the AI searches, answered customer questions among them,
and the support-routing documents. List, search, add, edit, delete, through the same
service as the HTTP API."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.console.auth import ConsoleUser, ConsoleUserDep, FormUserDep
from api.console.templating import render
from api.deps import SessionDep
from persistence.models import Document, DocumentStatus, Merchant
from services.errors import InvalidInput, NotFound
from services.knowledge import knowledge
from services.merchants.merchant import list_merchants
from services.notifications import inbox as notification_inbox

router = APIRouter(prefix="/console/documents", include_in_schema=False)

DocumentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PAGE_SIZE = 100
# What each known category is for; any other category is allowed and searched like `general`.
CATEGORIES = {
    knowledge.GENERAL: "General",
    knowledge.USER_QUESTION: "From staff answers",
    knowledge.SUPPORT_CLASSIFICATION: "Support routing",
}
# Form fields are bounded well above the service's limits, so the service's message shows.
TitleField = Annotated[str, Form(max_length=knowledge.TITLE_MAX * 4)]
ContentField = Annotated[str, Form(max_length=knowledge.CONTENT_MAX + 10_000)]
CategoryField = Annotated[str, Form(max_length=200)]
LanguageField = Annotated[str, Form(max_length=200)]


@dataclass(frozen=True)
class DocumentDraft:
    """What the form holds: a document's fields, or what the operator typed."""

    title: str = ""
    content: str = ""
    category: str = knowledge.GENERAL
    language: str = ""

    @classmethod
    def of(cls, document: Document) -> DocumentDraft:
        return cls(document.title, document.content, document.category, document.language)

    def fields(self) -> dict[str, Any]:
        """For the service: the category as typed, a blank language as 'the default'."""
        return {**asdict(self), "category": self.category.strip(), "language": _language(self)}


def _language(draft: DocumentDraft) -> str | None:
    language = draft.language.strip()
    if language and not re.fullmatch(knowledge.LANGUAGE_PATTERN, language):
        raise InvalidInput(
            f"invalid language {language[:20]!r}: use a code such as en, es-ES or pt_BR"
        )
    return language or None


def _merchant(merchants: list[Merchant], merchant_id: int | None) -> Merchant | None:
    return next((m for m in merchants if m.id == merchant_id), merchants[0] if merchants else None)


def _list_url(merchant_id: int | None, category: str = "", status: str = "") -> str:
    params = (("merchant_id", merchant_id), ("category", category), ("status", status))
    query = "&".join(f"{k}={v}" for k, v in params if v)
    return f"/console/documents?{query}" if query else "/console/documents"


def _list_page(
    request: Request,
    db: Session,
    user: ConsoleUser,
    *,
    merchant_id: int | None,
    category: str = "",
    status: str = "",
    q: str = "",
    draft: DocumentDraft | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    drafts_only = status == DocumentStatus.DRAFT
    merchants = list_merchants(db, merchant_id=user.principal.scope())
    merchant = _merchant(merchants, merchant_id)
    category = category if re.fullmatch(knowledge.CATEGORY_PATTERN, category) else ""
    q = q.strip()[:500]
    documents = (
        knowledge.list_documents(
            db,
            merchant_id=merchant.id,
            category=category or None,
            status=DocumentStatus.DRAFT if drafts_only else None,
            query=q or None,
            limit=PAGE_SIZE,
        )  # fmt: skip
        if merchant
        else []
    )
    context = {
        "user": user, "merchants": merchants, "merchant": merchant, "documents": documents,
        "asked_in": notification_inbox.asked_by_document(db, [d.id for d in documents]),
        "category": category.lower(), "q": q, "categories": CATEGORIES, "page_size": PAGE_SIZE,
        "drafts_only": drafts_only,
        "drafts_waiting": knowledge.count_drafts(db, merchant.id) if merchant else 0,
        "draft": draft or DocumentDraft(language=merchant.default_language if merchant else ""),
        "error": error,
    }  # fmt: skip
    return render(request, "documents.html", context, status_code=status_code)


def _edit_page(
    request: Request,
    db: Session,
    user: ConsoleUser,
    document_id: int,
    *,
    draft: DocumentDraft | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        document = knowledge.get_document(db, document_id)
    except NotFound as exc:
        context = {"user": user, "detail": exc.message}
        return render(request, "not_found.html", context, status_code=404)
    context = {
        "user": user, "document": document, "draft": draft or DocumentDraft.of(document),
        "asked_in": notification_inbox.asked_by_document(db, [document.id]).get(document.id),
        "categories": CATEGORIES, "error": error,
    }  # fmt: skip
    return render(request, "document.html", context, status_code=status_code)


@router.get("")
def documents_page(
    request: Request,
    db: SessionDep,
    user: ConsoleUserDep,
    merchant_id: int | None = None,
    category: str = "",
    status: str = "",
    q: str = "",
) -> Response:
    return _list_page(
        request, db, user, merchant_id=merchant_id, category=category, status=status, q=q
    )


@router.post("")
def create(
    request: Request,
    db: SessionDep,
    user: FormUserDep,
    merchant_id: Annotated[int, Form()],
    title: TitleField = "",
    content: ContentField = "",
    category: CategoryField = knowledge.GENERAL,
    language: LanguageField = "",
) -> Response:
    draft = DocumentDraft(title, content, category, language)
    try:
        document = knowledge.create_document(db, merchant_id=merchant_id, **draft.fields())
    except InvalidInput as exc:
        db.rollback()
        return _list_page(request, db, user, merchant_id=merchant_id, draft=draft,
                          error=exc.message, status_code=exc.status_code)  # fmt: skip
    except NotFound as exc:
        db.rollback()
        user.flash(exc.message, "error")
        return RedirectResponse(_list_url(None), status_code=303)
    user.flash(f"Added “{document.title}”: the AI can find it now.", "ok")
    return RedirectResponse(_list_url(merchant_id), status_code=303)


@router.get("/{document_id}")
def document_page(
    request: Request, document_id: DocumentId, db: SessionDep, user: ConsoleUserDep
) -> Response:
    return _edit_page(request, db, user, document_id)


@router.post("/{document_id}")
def update(
    request: Request,
    document_id: DocumentId,
    db: SessionDep,
    user: FormUserDep,
    title: TitleField = "",
    content: ContentField = "",
    category: CategoryField = knowledge.GENERAL,
    language: LanguageField = "",
) -> Response:
    draft = DocumentDraft(title, content, category, language)
    try:
        document = knowledge.update_document(db, document_id, **draft.fields())
    except (InvalidInput, NotFound) as exc:
        db.rollback()
        return _edit_page(request, db, user, document_id, draft=draft, error=exc.message,
                          status_code=exc.status_code)  # fmt: skip
    user.flash(f"Saved “{document.title}”.", "ok")
    return RedirectResponse(_list_url(document.merchant_id), status_code=303)


@router.post("/{document_id}/publish")
def publish(
    request: Request, document_id: DocumentId, db: SessionDep, user: FormUserDep
) -> Response:
    try:
        document = knowledge.publish_document(db, document_id)
    except (InvalidInput, NotFound) as exc:
        db.rollback()
        return _edit_page(request, db, user, document_id, error=exc.message,
                          status_code=exc.status_code)  # fmt: skip
    user.flash(f"Published “{document.title}”: the AI can find it now.", "ok")
    return RedirectResponse(
        _list_url(document.merchant_id, status=DocumentStatus.DRAFT), status_code=303
    )


@router.post("/{document_id}/delete")
def delete(document_id: DocumentId, db: SessionDep, user: FormUserDep) -> Response:
    try:
        document = knowledge.get_document(db, document_id)
        merchant_id, title = document.merchant_id, document.title
        knowledge.delete_document(db, document_id)
    except NotFound as exc:
        db.rollback()
        user.flash(exc.message, "error")
        return RedirectResponse(_list_url(None), status_code=303)
    user.flash(f"Deleted “{title}”: the AI no longer finds it.", "ok")
    return RedirectResponse(_list_url(merchant_id), status_code=303)
