"""The knowledge base: documents the AI searches before it answers or escalates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import PrincipalDep, SessionDep
from persistence.models import DocumentStatus
from services.knowledge import knowledge
from services.knowledge.knowledge import CATEGORY_PATTERN, CONTENT_MAX, LANGUAGE_PATTERN, TITLE_MAX

router = APIRouter(tags=["knowledge"])

DB_ID_MAX = 2**31 - 1
DocumentId = Annotated[int, Path(ge=1, le=DB_ID_MAX)]
MerchantId = Annotated[int, Field(ge=1, le=DB_ID_MAX)]
Category = Annotated[
    str,
    Field(
        max_length=32,
        pattern=CATEGORY_PATTERN,
        description="Letters, digits, '-' or '_' (stored lowercase). 'user_question': a "
        "general question (title) and the lasting public facts of the team's answer "
        "(content), drafted from staff answers and published only without personal details; "
        "'support_classification': which staff type (title) handles what (content), "
        "used for routing and never shown to customers.",
    ),
]
Language = Annotated[
    str,
    Field(
        max_length=16,
        pattern=LANGUAGE_PATTERN,
        description="Language code (en, es-ES, pt_BR): picks stemming and stop words for search.",
    ),
]
Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]
Content = Annotated[
    str,
    Field(max_length=CONTENT_MAX, description="Empty: not searchable."),
]
Status = Annotated[
    DocumentStatus,
    Field(description="Only published documents are searched by the AI; drafts wait for review."),
]


class DocumentCreate(BaseModel):
    merchant_id: MerchantId
    title: Title
    content: Content = ""
    category: Category = knowledge.GENERAL
    language: Language | None = Field(
        default=None, description="Defaults to the merchant's default language."
    )
    status: Status = DocumentStatus.PUBLISHED


class DocumentUpdate(BaseModel):
    """Only the fields given change; the document stays with its merchant."""

    title: Title | None = None
    content: Content | None = None
    category: Category | None = None
    language: Language | None = None
    status: Status | None = None


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    merchant_id: int
    category: str
    title: str
    content: str
    language: str
    status: DocumentStatus
    review_note: str | None
    created_at: datetime
    updated_at: datetime


@router.post("/api/v1/documents", status_code=status.HTTP_201_CREATED, responses={404: {}})
def create_document(body: DocumentCreate, session: SessionDep, _: PrincipalDep) -> DocumentRead:
    """Add a document to the merchant's knowledge base; the AI can find it at once."""
    document = knowledge.create_document(session, **body.model_dump())
    return DocumentRead.model_validate(document)


@router.get("/api/v1/documents", responses={404: {}})
def list_documents(
    session: SessionDep,
    principal: PrincipalDep,
    merchant_id: Annotated[int | None, Query(ge=1, le=DB_ID_MAX)] = None,
    category: Annotated[str | None, Query(max_length=32, pattern=CATEGORY_PATTERN)] = None,
    status: DocumentStatus | None = None,
    q: Annotated[
        str | None,
        Query(
            max_length=500,
            description='Full-text search, best matches first: all words, "a phrase", '
            "-excluded. Without it, the newest documents first.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[DocumentRead]:
    documents = knowledge.list_documents(
        session,
        merchant_id=principal.scope(merchant_id),
        category=category,
        status=status,
        query=q,
        limit=limit,
        offset=offset,
    )
    return [DocumentRead.model_validate(d) for d in documents]


@router.get("/api/v1/documents/{document_id}", responses={404: {}})
def get_document(document_id: DocumentId, session: SessionDep, _: PrincipalDep) -> DocumentRead:
    return DocumentRead.model_validate(knowledge.get_document(session, document_id))


@router.put("/api/v1/documents/{document_id}", responses={404: {}})
def update_document(
    document_id: DocumentId, body: DocumentUpdate, session: SessionDep, _: PrincipalDep
) -> DocumentRead:
    """Change some or all of title, content, category, language and status."""
    document = knowledge.update_document(session, document_id, **body.model_dump(exclude_none=True))
    return DocumentRead.model_validate(document)


@router.post("/api/v1/documents/{document_id}/publish", responses={404: {}, 422: {}})
def publish_document(document_id: DocumentId, session: SessionDep, _: PrincipalDep) -> DocumentRead:
    """Publish a draft, such as one drafted from a staff answer: the AI can find it at once.
    A customer-question document that looks like it holds personal details is refused (422)."""
    return DocumentRead.model_validate(knowledge.publish_document(session, document_id))


@router.delete(
    "/api/v1/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}}
)
def delete_document(document_id: DocumentId, session: SessionDep, _: PrincipalDep) -> None:
    knowledge.delete_document(session, document_id)
