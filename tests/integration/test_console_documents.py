"""The console's knowledge base over HTTP: list, category filter, search, add, edit and
delete through the knowledge service, with its validation errors shown in the form."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from persistence.db import session_scope
from persistence.models import Document, DocumentStatus
from services.knowledge import knowledge
from services.merchants.operator import create_operator
from tests.factories import make_document
from tests.integration.console_helpers import csrf_token, login, submit

pytestmark = pytest.mark.integration


@pytest.fixture
def signed_in(client, merchant) -> None:
    with session_scope() as session:
        _, token = create_operator(session, name="Olga")
    assert login(client, token).status_code == 303


NOTE = "Drafted by the AI from the team's answer to NOTIF_1."


@pytest.fixture
def library(merchant) -> dict[str, int]:
    """A policy, a published and a draft fact from staff answers, and support routing."""
    published, draft = DocumentStatus.PUBLISHED, DocumentStatus.DRAFT
    made = {
        "shipping": ("general", "Shipping times", "We ship within 2 days; Canada takes 5.",
                     published),
        "answered": ("user_question", "Do you ship to Canada?", "Yes, within 5 days.", published),
        "waiting": ("user_question", "Do you sell gift cards?", "Yes, from 20 euros.", draft),
        "returns": ("support_classification", "returns", "refunds and damaged goods", published),
    }  # fmt: skip
    with session_scope() as session:
        return {
            key: make_document(
                session, merchant_id=merchant["id"], category=category, title=title,
                content=content, status=status, review_note=NOTE if status == draft else None,
            ).id  # fmt: skip
            for key, (category, title, content, status) in made.items()
        }


def _listed(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-document="(\d+)"', html)]


def _document(document_id: int) -> Document | None:
    with session_scope() as session:
        return session.get(Document, document_id)


@pytest.mark.parametrize("path", ["/console/documents", "/console/documents/1"])
def test_document_pages_send_strangers_to_the_login(client, clean, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=/console/documents")


def test_the_list_marks_drafts_staff_answers_and_support_routing(client, library, signed_in):
    html = client.get("/console/documents").text
    assert sorted(_listed(html)) == sorted(library.values())

    def card(key: str) -> str:
        start = html.index(f'data-document="{library[key]}"')
        return html[start : html.index("</li>", start)]

    assert "from a staff answer" in card("answered") and "draft" not in card("answered")
    assert "draft to review" in card("waiting") and "Publish</button>" in card("waiting")
    assert "Drafted by the AI from the team&#39;s answer to NOTIF_1." in card("waiting")
    assert "support routing" in card("returns") and "staff answer" not in card("returns")
    assert "support requests are sent to the staff of the matching type" in html


def test_category_filter_and_search(client, merchant, library, signed_in):
    def listed(**params) -> list[int]:
        page = client.get("/console/documents", params={"merchant_id": merchant["id"], **params})
        return _listed(page.text)

    assert sorted(listed(category="user_question")) == sorted(
        [library["answered"], library["waiting"]]
    )
    assert listed(category="support_classification") == [library["returns"]]
    assert listed(status="draft") == [library["waiting"]]
    found = listed(q="canada")
    assert set(found) == {library["shipping"], library["answered"]}
    assert listed(q="canada", category="general") == [library["shipping"]]
    assert listed(q="unicorns") == []
    assert "Nothing matches" in client.get("/console/documents", params={"q": "unicorns"}).text


def test_adding_a_document(client, merchant, signed_in):
    response = submit(
        client, "/console/documents",
        {"merchant_id": str(merchant["id"]), "title": "Opening hours",
         "content": "Monday to Friday, 9 to 18.", "category": "general", "language": ""},
    )  # fmt: skip
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "Added “Opening hours”" in page and "Monday to Friday" in page
    with session_scope() as session:
        document = session.scalars(select(Document)).one()
        assert (document.language, document.category) == ("en", "general")  # the default
        found = knowledge.search(session, merchant_id=merchant["id"], query="open on monday?")
    assert [p.document_id for p in found] == [document.id]


def test_invalid_documents_are_refused_in_the_form_with_what_was_typed(client, merchant, signed_in):
    form = {"merchant_id": str(merchant["id"]), "title": "  ", "content": "Keep me",
            "category": "general", "language": "en"}  # fmt: skip
    no_title = submit(client, "/console/documents", form)
    assert no_title.status_code == 422
    assert "a document title needs 1 to 500 characters" in no_title.text
    assert ">Keep me</textarea>" in no_title.text
    bad_category = submit(client, "/console/documents", {**form, "title": "Hours",
                                                          "category": "no spaces!"})  # fmt: skip
    assert bad_category.status_code == 422 and "invalid category" in bad_category.text
    assert 'value="Hours"' in bad_category.text
    bad_language = submit(client, "/console/documents", {**form, "title": "Hours",
                                                          "language": "english!"})  # fmt: skip
    assert bad_language.status_code == 422 and "invalid language" in bad_language.text
    with session_scope() as session:
        assert session.scalars(select(Document)).all() == []


def test_publishing_a_draft_makes_it_searchable(client, merchant, library, signed_in):
    assert "To review <span" in client.get("/console/documents").text
    published = submit(client, f"/console/documents/{library['waiting']}/publish", {})
    assert published.status_code == 303
    assert "Published “Do you sell gift cards?”" in client.get(published.headers["location"]).text
    assert _document(library["waiting"]).status == "published"
    with session_scope() as session:
        found = knowledge.search(session, merchant_id=merchant["id"], query="gift cards")
    assert [p.document_id for p in found] == [library["waiting"]]


def test_a_draft_with_personal_details_is_not_published(client, merchant, signed_in):
    with session_scope() as session:
        draft = knowledge.create_document(
            session, merchant_id=merchant["id"], title="Has order #4411 shipped?",
            content="Yes, with DHL.", category="user_question", status=DocumentStatus.DRAFT,
        ).id  # fmt: skip
    refused = submit(client, f"/console/documents/{draft}/publish", {})
    assert refused.status_code == 422
    assert "order or reference number" in refused.text and "rewrite it" in refused.text
    assert _document(draft).status == "draft"


def test_editing_a_document(client, merchant, library, signed_in):
    path = f"/console/documents/{library['waiting']}"
    page = client.get(path).text
    assert 'value="Do you sell gift cards?"' in page and "draft to review" in page
    form = {"title": "Do you sell gift cards?", "content": "Yes, from 20 euros.",
            "category": "user_question", "language": "en"}  # fmt: skip
    saved = submit(client, path, form)
    assert saved.status_code == 303
    document = _document(library["waiting"])
    assert document.content == "Yes, from 20 euros." and document.category == "user_question"
    assert "Saved “Do you sell gift cards?”" in client.get(saved.headers["location"]).text
    refused = submit(client, path, {**form, "title": "", "content": "Changed my mind"})
    assert refused.status_code == 422 and "title needs" in refused.text
    assert ">Changed my mind</textarea>" in refused.text
    assert _document(library["waiting"]).content == "Yes, from 20 euros."
    assert client.get("/console/documents/999").status_code == 404


def test_deleting_a_document_needs_the_csrf_token(client, library, signed_in):
    path = f"/console/documents/{library['shipping']}/delete"
    assert client.post(path, data={}, follow_redirects=False).status_code == 403
    offsite = client.post(
        path, data={"csrf_token": csrf_token(client)},
        headers={"Origin": "https://evil.example"}, follow_redirects=False,
    )  # fmt: skip
    assert offsite.status_code == 403 and _document(library["shipping"]) is not None
    deleted = submit(client, path)
    assert deleted.status_code == 303 and _document(library["shipping"]) is None
    assert "Deleted “Shipping times”" in client.get(deleted.headers["location"]).text
    assert submit(client, path).status_code == 303  # already gone: said so, nothing breaks
