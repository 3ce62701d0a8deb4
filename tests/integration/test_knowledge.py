"""The knowledge base: the documents API, full-text search and search_knowledge_base."""

from __future__ import annotations

from typing import Any

import pytest

from persistence.db import session_scope
from persistence.models import DocumentStatus
from services.errors import NotFound
from services.knowledge import knowledge
from services.knowledge.chunking import CHUNK_CHARS
from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
HOURS = "We are open Monday to Friday from 9:00 to 18:00, and Saturday from 10:00 to 14:00."


def _create(client, merchant: dict, *, headers: dict = ADMIN, **fields: Any) -> Any:
    body = {"merchant_id": merchant["id"], "title": "Opening hours", "content": HOURS, **fields}
    return client.post("/api/v1/documents", headers=headers, json=body)


def _add(merchant_id: int, title: str, content: str, **fields: Any) -> int:
    with session_scope() as session:
        document = knowledge.create_document(
            session, merchant_id=merchant_id, title=title, content=content, **fields
        )
        return document.id


def _search(merchant_id: int, query: str, limit: int = 3) -> list[knowledge.Passage]:
    with session_scope() as session:
        return knowledge.search(session, merchant_id=merchant_id, query=query, limit=limit)


def _other_merchant() -> int:
    from services.merchants.merchant import create_merchant

    with session_scope() as session:
        return create_merchant(session, name="Other Shop").id


@pytest.fixture
def operator(client, clean) -> dict:
    response = client.post("/api/v1/operators", headers=ADMIN, json={"name": "Olga"})
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.json()['token']}"}


# --- the API -------------------------------------------------------------------------


def test_a_document_is_created_read_updated_listed_and_deleted(client, merchant):
    created = _create(client, merchant, category="Hours")
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["merchant_id"] == merchant["id"] and document["title"] == "Opening hours"
    assert document["category"] == "hours"  # stored lowercase
    assert document["language"] == "en"  # the merchant's default language
    url = f"/api/v1/documents/{document['id']}"
    assert client.get(url, headers=ADMIN).json() == document

    updated = client.put(url, headers=ADMIN, json={"content": "Open every day.", "language": "es"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["content"] == "Open every day." and updated.json()["language"] == "es"
    assert updated.json()["title"] == "Opening hours"  # a partial update keeps the rest

    listed = client.get("/api/v1/documents", headers=ADMIN, params={"merchant_id": merchant["id"]})
    assert [d["id"] for d in listed.json()] == [document["id"]]
    assert client.delete(url, headers=ADMIN).status_code == 204
    assert client.get(url, headers=ADMIN).status_code == 404
    assert client.delete(url, headers=ADMIN).status_code == 404


def test_the_documents_api_needs_a_token(client, merchant):
    assert _create(client, merchant, headers={}).status_code == 401
    assert client.get("/api/v1/documents").status_code == 401
    assert client.get("/api/v1/documents/1").status_code == 401
    assert client.put("/api/v1/documents/1", json={"title": "x"}).status_code == 401
    assert client.delete("/api/v1/documents/1").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/api/v1/documents", headers=wrong).status_code == 401


def test_any_operator_token_manages_documents(client, merchant, operator):
    created = _create(client, merchant, headers=operator)
    assert created.status_code == 201, created.text
    assert client.get("/api/v1/documents", headers=operator).status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": ""},
        {"title": "   "},
        {"title": "t" * 501},
        {"content": "c" * 100_001},
        {"category": "no spaces"},
        {"category": "c" * 33},
        {"language": "english"},
        {"language": "e"},
        {"language": "en-"},
        {"merchant_id": 0},
    ],
)
def test_invalid_documents_are_refused(client, merchant, overrides):
    response = _create(client, merchant, **overrides)
    assert response.status_code == 422, response.text
    assert client.get("/api/v1/documents", headers=ADMIN).json() == []


def test_an_invalid_update_is_refused_and_changes_nothing(client, merchant):
    url = f"/api/v1/documents/{_create(client, merchant).json()['id']}"
    assert client.put(url, headers=ADMIN, json={"title": " "}).status_code == 422
    assert client.put(url, headers=ADMIN, json={"language": "xx-"}).status_code == 422
    assert client.get(url, headers=ADMIN).json()["title"] == "Opening hours"


def test_unknown_merchants_and_documents_are_not_found(client, merchant):
    unknown = merchant["id"] + 100
    missing = _create(client, {"id": unknown})
    assert missing.status_code == 404 and f"merchant {unknown}" in missing.json()["detail"]
    listed = client.get("/api/v1/documents", headers=ADMIN, params={"merchant_id": unknown})
    assert listed.status_code == 404
    assert client.get("/api/v1/documents/999", headers=ADMIN).status_code == 404
    assert client.put("/api/v1/documents/999", headers=ADMIN, json={}).status_code == 404
    assert client.get("/api/v1/documents/99999999999", headers=ADMIN).status_code == 422


def test_the_list_filters_by_merchant_category_and_query(client, merchant):
    other = _other_merchant()
    hours = _add(merchant["id"], "Opening hours", HOURS)
    returns = _add(
        merchant["id"], "Returns", "Return unworn shoes within 30 days.", category="policy"
    )
    _add(other, "Opening hours", "Always open.")

    def ids(**params: Any) -> list[int]:
        response = client.get("/api/v1/documents", headers=ADMIN, params=params)
        assert response.status_code == 200, response.text
        return [d["id"] for d in response.json()]

    assert ids(merchant_id=merchant["id"]) == [returns, hours]  # newest first
    assert ids(merchant_id=merchant["id"], category="policy") == [returns]
    assert ids(merchant_id=merchant["id"], q="saturdays") == [hours]
    assert len(ids(q="open")) == 2  # every merchant's
    assert ids(merchant_id=merchant["id"], limit=1, offset=1) == [hours]


# --- search ----------------------------------------------------------------------------


def test_search_finds_only_the_merchants_own_documents(merchant):
    other = _other_merchant()
    _add(other, "Opening hours", "Open on Sundays too.")
    mine = _add(merchant["id"], "Opening hours", HOURS)
    assert [p.document_id for p in _search(merchant["id"], "opening hours")] == [mine]
    assert _search(merchant["id"], "sundays") == []


def test_the_best_matching_document_comes_first(merchant):
    shipping = _add(merchant["id"], "Shipping", "We ship to every country. Delivery takes 3 days.")
    _add(merchant["id"], "Payment", "We accept cards. Shipping costs are paid at checkout.")
    delivery = _add(merchant["id"], "Delivery times", "Express delivery takes one day.")
    found = _search(merchant["id"], "how many days does shipping delivery take")
    assert [p.document_id for p in found][0] == shipping  # shares the most words
    assert delivery in [p.document_id for p in found]
    assert found == sorted(found, key=lambda p: p.rank, reverse=True)
    assert all(0 < p.rank < 1 for p in found)


def test_a_title_match_outranks_a_content_match(merchant):
    in_content = _add(merchant["id"], "Payment", "Gift cards can be used to pay online.")
    in_title = _add(merchant["id"], "Gift cards", "They can be used to pay online.")
    assert [p.document_id for p in _search(merchant["id"], "gift cards")] == [
        in_title,
        in_content,
    ]


def test_search_matches_other_inflections_of_a_word(merchant):
    hours = _add(merchant["id"], "Opening hours", HOURS)
    envios = _add(
        merchant["id"], "Envíos", "Hacemos envíos a toda España en 48 horas.", language="es"
    )
    assert [p.document_id for p in _search(merchant["id"], "are you open on mondays?")] == [hours]
    found = _search(merchant["id"], "¿envío a Canarias?")
    assert [p.document_id for p in found] == [envios]


def test_a_chatty_question_sharing_one_word_with_a_document_finds_nothing(merchant):
    """The minimum score: one shared word among many is not an answer; the key words are."""
    returns = _add(merchant["id"], "Returns", "Unworn shoes can be returned within 30 days.")
    question = (
        "Hi! I bought sneakers last week for my son and they are too small, can I return them?"
    )
    assert _search(merchant["id"], question) == []
    assert [p.document_id for p in _search(merchant["id"], "return shoes")] == [returns]


def test_internal_empty_and_draft_documents_are_never_returned(merchant):
    _add(merchant["id"], "returns", "refunds, returns, damaged goods",
         category=knowledge.SUPPORT_CLASSIFICATION)  # fmt: skip
    _add(merchant["id"], "Can I return worn shoes?", "", category=knowledge.USER_QUESTION)
    with session_scope() as session:
        knowledge.create_document(
            session, merchant_id=merchant["id"], title="Returns of damaged shoes",
            content="Refunds for damaged shoes within 30 days.", status=DocumentStatus.DRAFT,
        )  # fmt: skip
    assert _search(merchant["id"], "return refunds damaged shoes") == []


def test_a_draft_is_found_once_a_person_publishes_it(client, merchant):
    with session_scope() as session:
        draft = knowledge.create_document(
            session, merchant_id=merchant["id"], title="Do you sell gift vouchers?",
            content="Yes, from 10 to 200 euros.", category=knowledge.USER_QUESTION,
            status=DocumentStatus.DRAFT, review_note="Drafted from NOTIF_1",
        ).id  # fmt: skip
    assert _search(merchant["id"], "gift vouchers") == []
    listed = client.get("/api/v1/documents", headers=ADMIN, params={"status": "draft"}).json()
    assert [(d["id"], d["review_note"]) for d in listed] == [(draft, "Drafted from NOTIF_1")]
    published = client.post(f"/api/v1/documents/{draft}/publish", headers=ADMIN)
    assert published.status_code == 200
    assert (published.json()["status"], published.json()["review_note"]) == ("published", None)
    found = _search(merchant["id"], "gift vouchers")
    assert [(p.document_id, p.category) for p in found] == [(draft, knowledge.USER_QUESTION)]
    assert found[0].snippet == "Yes, from 10 to 200 euros."
    unpublished = client.put(f"/api/v1/documents/{draft}", headers=ADMIN, json={"status": "draft"})
    assert unpublished.json()["status"] == "draft"
    assert _search(merchant["id"], "gift vouchers") == []


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ("Yes, order #4411 left on Monday.", "order or reference number"),
        ("It went with DHL, tracking 1Z999AA10123456784.", "tracking code"),
        ("We sent it to 12 Baker Street yesterday.", "street address"),
        ("Write to ana.lopez@example.com for the refund.", "email address"),
        ("Call her back on +34 612 345 678.", "phone or card number"),
    ],
)
def test_a_staff_answer_draft_with_personal_details_cannot_be_published(
    client, merchant, content, kind
):
    with session_scope() as session:
        draft = knowledge.create_document(
            session, merchant_id=merchant["id"], title="Has my order shipped?", content=content,
            category=knowledge.USER_QUESTION, status=DocumentStatus.DRAFT,
        ).id  # fmt: skip
    refused = client.post(f"/api/v1/documents/{draft}/publish", headers=ADMIN)
    assert refused.status_code == 422 and kind in refused.json()["detail"]
    also_refused = client.put(
        f"/api/v1/documents/{draft}", headers=ADMIN, json={"status": "published"}
    )
    assert also_refused.status_code == 422
    created = _create(client, merchant, category="user_question", content=content)
    assert created.status_code == 422
    assert client.get(f"/api/v1/documents/{draft}", headers=ADMIN).json()["status"] == "draft"
    assert _search(merchant["id"], "order shipped") == []


def test_updating_content_makes_the_new_words_searchable(client, merchant):
    document = _create(client, merchant).json()
    assert _search(merchant["id"], "holidays") == []
    url = f"/api/v1/documents/{document['id']}"
    client.put(url, headers=ADMIN, json={"content": "Closed on public holidays."})
    assert [p.document_id for p in _search(merchant["id"], "holidays")] == [document["id"]]
    assert _search(merchant["id"], "saturday") == []


def test_a_snippet_shows_the_matched_words_of_a_long_document(merchant):
    filler = "Our shoes are made by hand in small workshops. " * 40
    _add(
        merchant["id"], "About us", filler + "Every pair comes with a two-year warranty. " + filler
    )
    (passage,) = _search(merchant["id"], "is there a warranty?")
    assert "two-year warranty" in passage.snippet
    assert len(passage.snippet) <= CHUNK_CHARS and "\n" not in passage.snippet


def test_a_query_without_words_finds_nothing(merchant):
    _add(merchant["id"], "Opening hours", HOURS)
    for query in ("", "   ", "the", "?!&|'"):
        assert _search(merchant["id"], query) == []


def test_search_returns_at_most_the_limit(merchant):
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday"):
        _add(merchant["id"], f"Opening hours on {day}", f"Open from 9:00 on {day}.")
    assert len(_search(merchant["id"], "opening hours")) == 3
    assert len(_search(merchant["id"], "opening hours", limit=1)) == 1


def test_classification_documents_are_the_merchants_routing_rules(merchant):
    returns = _add(merchant["id"], "returns", "refunds, returns, damaged goods",
                   category=knowledge.SUPPORT_CLASSIFICATION)  # fmt: skip
    sales = _add(merchant["id"], "sales", "bulk orders, discounts",
                 category=knowledge.SUPPORT_CLASSIFICATION)  # fmt: skip
    _add(merchant["id"], "Returns", "Return within 30 days.")
    _add(_other_merchant(), "technical", "app problems", category=knowledge.SUPPORT_CLASSIFICATION)
    with session_scope() as session:
        found = knowledge.classification_documents(session, merchant["id"])
        assert [d.id for d in found] == [returns, sales]


def test_a_document_of_another_merchant_is_not_found_through_a_scoped_call(merchant):
    document_id = _add(_other_merchant(), "Opening hours", HOURS)
    with session_scope() as session:
        for call in (knowledge.get_document, knowledge.delete_document):
            with pytest.raises(NotFound):
                call(session, document_id, merchant["id"])
        with pytest.raises(NotFound):
            knowledge.update_document(session, document_id, merchant_id=merchant["id"], title="x")


def test_a_language_that_is_not_a_code_falls_back_to_the_merchants(merchant):
    """Customer languages are a model's guess; a question must be recorded anyway."""
    document_id = _add(merchant["id"], "Do you ship abroad?", "", language="english")
    with session_scope() as session:
        assert knowledge.get_document(session, document_id).language == "en"
        updated = knowledge.update_document(session, document_id, language="Spanish!")
        assert updated.language == "en"


# --- the tool --------------------------------------------------------------------------


def _run_tool(merchant_id: int, query: str) -> tuple[str, str]:
    """What the model reads this turn, and what the conversation keeps afterwards."""
    from langgraph.prebuilt import ToolRuntime

    from graph.context import TurnContext
    from tools.knowledge import search_knowledge_base

    context = TurnContext(
        conversation_id=1, turn_id=1, merchant_id=merchant_id, merchant_name="Acme Shoes",
        merchant_description="", tone="friendly", default_language="en", customer_name=None,
        customer_language=None,
    )  # fmt: skip
    runtime = ToolRuntime(
        state={}, context=context, config={}, stream_writer=lambda _: None,
        tool_call_id="call-1", store=None,
    )  # fmt: skip
    return search_knowledge_base.func(query=query, runtime=runtime)


def test_the_tool_returns_passages_with_document_ids(merchant):
    hours = _add(merchant["id"], "Opening hours", HOURS)
    _add(_other_merchant(), "Opening hours", "Always open.")
    result, kept = _run_tool(merchant["id"], "when are you open on saturday?")
    assert result.splitlines()[0] == f"[doc {hours}] Opening hours: {HOURS}"
    assert "Always open" not in result
    assert kept == f"[doc {hours}] Opening hours: {HOURS}"  # the findings, no instructions


def test_when_nothing_matches_the_tool_says_to_clarify_a_vague_question_or_ask_the_team(
    merchant,
):
    _add(merchant["id"], "Opening hours", HOURS)
    result, kept = _run_tool(merchant["id"], "do you sell gift vouchers?")
    assert kept == "No document of the business matched 'do you sell gift vouchers?'."
    assert "No document" in result and "Do not invent" in result
    assert "vague" in result and "ask them one short question" in result
    assert "clear question the documents do not cover" in result
    assert "request_notification" in result and "user_question_request" in result
    assert '"question"' in result


def test_the_tool_schema_takes_only_a_query():
    from tools.knowledge import search_knowledge_base

    assert search_knowledge_base.name == "search_knowledge_base"
    schema = search_knowledge_base.tool_call_schema.model_json_schema()
    assert list(schema["properties"]) == ["query"]
    assert schema["properties"]["query"]["maxLength"] == 500
