"""Message templates against real PostgreSQL and the fake Graph API: choosing one
(fallbacks), creating them through message_templates, status webhooks, the outbox send,
and the shell commands."""

from __future__ import annotations

import copy
import logging
import os
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import select

from persistence.db import session_scope
from persistence.models import DeliveryStatus, Merchant, Message, MessageTemplate, RejectedWebhook
from scripts import manage
from services.conversations.conversation import upsert_conversation, upsert_customer
from services.delivery.flows import send_pending
from services.errors import Conflict, DomainError
from services.merchants import merchant as merchants
from services.templates import templates
from services.templates.defaults import EXAMPLES, SHIPPED, TemplateRole
from tests.conftest import ACCESS_TOKEN, ADMIN_TOKEN, ROOT
from tests.helpers import eventually, load_payload, post_webhook

pytestmark = pytest.mark.integration

WABA = "102290129340398"
CUSTOMER = "15557654321"
QUESTION = TemplateRole.MERCHANT_USER_QUESTION_REQUEST
ANSWER = TemplateRole.MERCHANT_USER_QUESTION_ANSWER
ANSWER_VALUES = {
    "merchant_name": "Acme Shoes",
    "question": "¿Enviáis a Canarias?",
    "answer": "sí, en 5 días.",
}


# --- helpers --------------------------------------------------------------------------


@pytest.fixture
def graph(fakes: dict) -> Any:
    return fakes["graph"]


@pytest.fixture
def shop(merchant: dict) -> dict:
    """The test merchant with its WhatsApp Business Account id."""
    with session_scope() as session:
        merchants.set_business_account(session, merchant["id"], WABA)
    return merchant


def create(shop: dict, languages: list[str]) -> list[MessageTemplate]:
    with session_scope() as session:
        return templates.create_templates(session, merchant_id=shop["id"], languages=languages)


def rows(merchant_id: int) -> dict[tuple[str, str], MessageTemplate]:
    with session_scope() as session:
        found = templates.list_templates(session, merchant_id)
    return {(row.role, row.language): row for row in found}


def add_row(merchant_id: int, role: TemplateRole, language: str, **fields: Any) -> None:
    shipped = SHIPPED[(role, "en")]
    values = {
        "name": shipped.name,
        "body": shipped.body,
        "parameters": list(shipped.parameters),
        "status": "APPROVED",
        **fields,
    }
    with session_scope() as session:
        session.add(
            MessageTemplate(merchant_id=merchant_id, role=role.value, language=language, **values)
        )


def set_default_language(merchant_id: int, language: str) -> None:
    with session_scope() as session:
        merchants.get_merchant(session, merchant_id).default_language = language


def resolve(
    merchant_id: int, role: TemplateRole, language: str | None
) -> templates.ResolvedTemplate:
    with session_scope() as session:
        return templates.resolve(session, merchant_id=merchant_id, role=role, language=language)


def template_requests(graph: Any, method: str) -> list[Any]:
    return [
        r for r in graph.requests if r.method == method and r.path.endswith("/message_templates")
    ]


def conversation_of(merchant: dict) -> int:
    with session_scope() as session:
        customer = upsert_customer(
            session, merchant_id=merchant["id"], wa_id=CUSTOMER, user_id=None, profile_name="Ana"
        )
        return upsert_conversation(
            session, phone_id=merchant["phone_id"], customer_id=customer.id
        ).id


def enqueue(merchant: dict, role: TemplateRole, language: str, values: dict[str, str]) -> int:
    conversation_id = conversation_of(merchant)
    with session_scope() as session:
        return templates.enqueue_template(
            session,
            conversation_id=conversation_id,
            role=role,
            language=language,
            values=values,
            merchant_id=merchant["id"],
        )


def message(message_id: int) -> Message:
    with session_scope() as session:
        found = session.get(Message, message_id)
        assert found is not None
        return found


def status_payload(**value: Any) -> dict:
    payload = copy.deepcopy(load_payload("template_status_update"))
    payload["entry"][0]["id"] = value.pop("waba", WABA)
    payload["entry"][0]["changes"][0]["value"].update(value)
    return payload


def rejected_webhooks() -> list[RejectedWebhook]:
    with session_scope() as session:
        return list(session.scalars(select(RejectedWebhook)))


# --- resolve: the fallback chain ------------------------------------------------------


def test_without_rows_the_shipped_template_in_the_customers_language_is_used(shop):
    found = resolve(shop["id"], ANSWER, "es")
    assert (found.name, found.language) == ("switchboard_question_answer", "es")
    assert found.body == SHIPPED[(ANSWER, "es")].body
    assert found.parameters == ("merchant_name", "question", "answer")


def test_a_base_language_finds_the_shipped_regional_one(shop):
    assert resolve(shop["id"], ANSWER, "pt").language == "pt_BR"


def test_the_merchants_row_in_a_regional_variant_serves_the_base_language(shop):
    add_row(shop["id"], ANSWER, "es_MX", name="acme_answer", body="Hola {{1}}, {{2}}: {{3}}.")
    found = resolve(shop["id"], ANSWER, "es")
    assert (found.name, found.language, found.body) == (
        "acme_answer",
        "es_MX",
        "Hola {{1}}, {{2}}: {{3}}.",
    )


def test_the_merchants_base_row_serves_a_regional_customer(shop):
    add_row(shop["id"], ANSWER, "pt", name="acme_answer_pt")
    found = resolve(shop["id"], ANSWER, "pt_BR")
    assert (found.name, found.language) == ("acme_answer_pt", "pt")


def test_a_rejected_row_gives_way_to_the_merchants_default_language(shop):
    set_default_language(shop["id"], "es")
    add_row(shop["id"], ANSWER, "fr", name="acme_fr", status="REJECTED")
    add_row(shop["id"], ANSWER, "es", name="acme_es")
    found = resolve(shop["id"], ANSWER, "fr")
    assert (found.name, found.language) == ("acme_es", "es")


@pytest.mark.parametrize("status", ["DISABLED", "PAUSED"])
def test_disabled_and_paused_rows_are_skipped(shop, status):
    add_row(shop["id"], ANSWER, "fr", name="acme_fr", status=status)
    found = resolve(shop["id"], ANSWER, "fr")
    assert (found.name, found.language) == ("switchboard_question_answer", "fr")


def test_a_language_nobody_has_falls_back_to_the_shipped_default_language(shop):
    set_default_language(shop["id"], "es")
    assert resolve(shop["id"], ANSWER, "de").language == "es"


def test_with_no_usable_language_at_all_english_is_used(shop):
    set_default_language(shop["id"], "it")
    assert resolve(shop["id"], ANSWER, "de").language == "en"


def test_an_unknown_customer_language_uses_the_merchants_default(shop):
    set_default_language(shop["id"], "fr")
    assert resolve(shop["id"], ANSWER, None).language == "fr"


def test_a_fallback_is_logged(shop, caplog):
    with caplog.at_level(logging.INFO, logger="services.templates.templates"):
        resolve(shop["id"], ANSWER, "de")
    assert "templates.fallback" in caplog.text
    assert "requested=de" in caplog.text


# --- create_templates: the Graph API's message_templates ------------------------------


def test_create_templates_submits_every_role_with_its_body_and_examples(shop, graph):
    created = create(shop, ["en"])

    assert [row.role for row in created] == [role.value for role in TemplateRole]
    posts = template_requests(graph, "POST")
    assert [r.path for r in posts] == [f"/v23.0/{WABA}/message_templates"] * len(TemplateRole)
    assert posts[0].headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    en = EXAMPLES["en"]
    assert posts[0].json() == {
        "name": "switchboard_question_request",
        "language": "en",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": SHIPPED[(QUESTION, "en")].body,
                "example": {"body_text": [[en["notification_id"], en["customer"], en["question"]]]},
            }
        ],
    }


def test_created_templates_are_recorded_with_metas_id_and_status(shop, graph):
    create(shop, ["en", "es"])
    recorded = rows(shop["id"])
    assert len(recorded) == 2 * len(TemplateRole)
    row = recorded[(QUESTION.value, "es")]
    stored = graph.message_templates.get("switchboard_question_request", "es")
    assert (row.name, row.status, row.meta_template_id) == (
        "switchboard_question_request",
        "PENDING",
        stored.id,
    )
    assert row.parameters == ["notification_id", "customer", "question"]
    assert row.category == "UTILITY"


def test_a_template_approved_at_once_is_recorded_approved(shop, graph):
    graph.message_templates.status_on_create = "APPROVED"
    assert {row.status for row in create(shop, ["fr"])} == {"APPROVED"}


def test_a_template_that_already_exists_is_read_back_with_its_status(shop, graph):
    existing = graph.message_templates.add(
        WABA, "switchboard_question_request", "es", SHIPPED[(QUESTION, "es")].body
    )
    create(shop, ["es"])
    row = rows(shop["id"])[(QUESTION.value, "es")]
    assert (row.status, row.meta_template_id) == ("APPROVED", existing.id)
    [listing] = template_requests(graph, "GET")
    assert listing.query["name"] == ["switchboard_question_request"]


def test_running_it_again_refreshes_the_statuses_without_duplicates(shop, graph):
    create(shop, ["en"])
    graph.message_templates.set_status(
        "switchboard_support_response", "en", "REJECTED", reason="INVALID_FORMAT"
    )
    create(shop, ["en"])
    recorded = rows(shop["id"])
    assert len(recorded) == len(TemplateRole)
    row = recorded[(TemplateRole.CUSTOMER_SUPPORT_RESPONSE.value, "en")]
    assert (row.status, row.status_reason) == ("REJECTED", "INVALID_FORMAT")


def test_a_base_language_creates_the_shipped_regional_one(shop):
    assert {row.language for row in create(shop, ["pt"])} == {"pt_BR"}


def test_a_language_without_shipped_templates_is_refused(shop):
    with pytest.raises(DomainError, match="shipped: en, es, pt_BR, fr"):
        create(shop, ["de"])


def test_a_merchant_without_business_account_id_gets_a_clear_conflict(merchant):
    with pytest.raises(Conflict, match="no WhatsApp Business Account id"):
        create(merchant, ["en"])


def test_a_merchant_without_a_number_has_no_token_to_create_with(clean):
    with session_scope() as session:
        merchant_id = merchants.create_merchant(
            session, name="No number", whatsapp_business_account_id=WABA
        ).id
    with pytest.raises(Conflict, match="no WhatsApp number"):
        create({"id": merchant_id}, ["en"])


def test_the_merchants_own_template_is_submitted_as_it_is(shop, graph):
    body = "Hola, soy {{1}}. Sobre {{2}}: {{3}}. ¡Gracias!"
    add_row(shop["id"], ANSWER, "es", name="acme_answer", body=body, status="NOT_SUBMITTED")
    create(shop, ["es"])
    submitted = {r.json()["name"]: r.json() for r in template_requests(graph, "POST")}
    component = submitted["acme_answer"]["components"][0]
    assert component["text"] == body
    es = EXAMPLES["es"]
    assert component["example"] == {
        "body_text": [[es["merchant_name"], es["question"], es["answer"]]]
    }
    assert rows(shop["id"])[(ANSWER.value, "es")].status == "PENDING"


def test_a_refusal_by_the_graph_api_is_a_domain_error(shop):
    add_row(shop["id"], ANSWER, "en", name="Acme-Answer")  # Meta wants lowercase and _
    with pytest.raises(templates.TemplateSubmissionFailed, match="Acme-Answer"):
        create(shop, ["en"])


def test_sync_templates_refreshes_statuses_from_the_business_account(shop, graph):
    create(shop, ["en"])
    graph.message_templates.set_status("switchboard_question_request", "en", "APPROVED")
    graph.message_templates.set_status("switchboard_support_request", "en", "PAUSED")
    with session_scope() as session:
        templates.sync_templates(session, merchant_id=shop["id"])
    statuses = {role: row.status for (role, _), row in rows(shop["id"]).items()}
    assert statuses[QUESTION.value] == "APPROVED"
    assert statuses[TemplateRole.MERCHANT_USER_OVERRIDE_REQUEST.value] == "PAUSED"
    assert statuses[ANSWER.value] == "PENDING"


# --- sending --------------------------------------------------------------------------


def test_a_template_in_the_outbox_is_sent_with_the_exact_wire_payload(shop, graph):
    message_id = enqueue(shop, ANSWER, "es", ANSWER_VALUES)

    assert send_pending(message_id, only_in_ai_mode=False) == DeliveryStatus.ACCEPTED

    [sent] = graph.sent
    assert sent == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "template",
        "template": {
            "name": "switchboard_question_answer",
            "language": {"code": "es"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Acme Shoes"},
                        {"type": "text", "text": "¿Enviáis a Canarias?"},
                        {"type": "text", "text": "sí, en 5 días."},
                    ],
                }
            ],
        },
        "biz_opaque_callback_data": f"sb:{message_id}",
        "_wamid": sent["_wamid"],
    }
    stored = message(message_id)
    assert (stored.type, stored.wamid, stored.raw["role"]) == (
        "template",
        sent["_wamid"],
        ANSWER.value,
    )
    assert stored.text.startswith("¡Hola! Te escribe Acme Shoes sobre tu pregunta")
    assert "sí, en 5 días." in stored.text


def test_values_with_newlines_are_sent_as_one_line(shop, graph):
    values = {**ANSWER_VALUES, "answer": "primero\n\nsegundo\tfin"}
    message_id = enqueue(shop, ANSWER, "es", values)
    assert send_pending(message_id, only_in_ai_mode=False) == DeliveryStatus.ACCEPTED
    parameters = graph.sent[0]["template"]["components"][0]["parameters"]
    assert parameters[2]["text"] == "primero segundo fin"


def test_a_template_whatsapp_has_not_approved_yet_fails_with_132001(shop, graph):
    create(shop, ["es"])  # PENDING at Meta
    message_id = enqueue(shop, ANSWER, "es", ANSWER_VALUES)
    assert send_pending(message_id, only_in_ai_mode=False) == DeliveryStatus.FAILED
    assert message(message_id).error_code == 132001
    assert graph.sent == []


def test_once_approved_the_created_template_is_sent(shop, graph):
    create(shop, ["es"])
    graph.message_templates.set_status("switchboard_question_answer", "es", "APPROVED")
    message_id = enqueue(shop, ANSWER, "es", ANSWER_VALUES)
    assert send_pending(message_id, only_in_ai_mode=False) == DeliveryStatus.ACCEPTED


# --- status webhooks ------------------------------------------------------------------


def test_a_status_webhook_approves_the_template_matched_by_metas_id(client, shop):
    create(shop, ["en"])
    row = rows(shop["id"])[(QUESTION.value, "en")]
    payload = status_payload(
        event="APPROVED",
        message_template_id=int(row.meta_template_id),
        message_template_name=row.name,
        message_template_language="en",
    )

    assert post_webhook(client, payload).status_code == 200

    updated = rows(shop["id"])[(QUESTION.value, "en")]
    assert (updated.status, updated.status_reason) == ("APPROVED", None)
    assert rejected_webhooks() == []


def test_a_rejection_matched_by_name_and_language_records_the_reason(client, shop):
    add_row(shop["id"], ANSWER, "en", status="PENDING")
    payload = status_payload(
        event="REJECTED",
        message_template_id=999,
        reason="INVALID_FORMAT",
        message_template_name="switchboard_question_answer",
        message_template_language="en",
    )

    assert post_webhook(client, payload).status_code == 200

    row = rows(shop["id"])[(ANSWER.value, "en")]
    assert (row.status, row.status_reason, row.meta_template_id) == (
        "REJECTED",
        "INVALID_FORMAT",
        "999",
    )
    assert resolve(shop["id"], ANSWER, "en").name == "switchboard_question_answer"


def test_a_status_update_for_a_template_the_merchant_made_imports_it(stack, client, shop, graph):
    graph.message_templates.add(WABA, "order_shipped", "en_US", "Your order {{1}} has shipped.")
    payload = load_payload("template_status_update")  # order_shipped: made in WhatsApp Manager

    assert post_webhook(client, payload).status_code == 200

    imported = eventually(lambda: rows(shop["id"]).get((None, "en_US")))
    assert (imported.name, imported.status) == ("order_shipped", "APPROVED")
    assert rejected_webhooks() == []


def test_an_unknown_business_accounts_template_is_recorded_as_a_rejected_webhook(client, shop):
    payload = load_payload("template_status_update")
    payload["entry"][0]["id"] = "999000999"

    assert post_webhook(client, payload).status_code == 200

    [rejected] = rejected_webhooks()
    assert rejected.reason == "unknown_template"
    assert rejected.payload["entry_id"] == "999000999"
    assert rejected.payload["value"]["message_template_name"] == "order_shipped"


def test_another_business_accounts_template_of_the_same_name_is_not_ours(client, shop):
    add_row(shop["id"], ANSWER, "en", status="PENDING")
    payload = status_payload(
        waba="999000999",
        event="APPROVED",
        message_template_id=5,
        message_template_name="switchboard_question_answer",
        message_template_language="en",
    )
    post_webhook(client, payload)
    assert rows(shop["id"])[(ANSWER.value, "en")].status == "PENDING"
    assert [r.reason for r in rejected_webhooks()] == ["unknown_template"]


def test_other_fields_are_still_recorded_as_unhandled(client, shop):
    payload = load_payload("template_status_update")
    # account_update is recorded as an account event now (test_quality_webhooks)
    payload["entry"][0]["changes"][0]["field"] = "security"
    post_webhook(client, payload)
    assert [r.reason for r in rejected_webhooks()] == ["unhandled:security"]


# --- the shell and the API ------------------------------------------------------------


def test_manage_creates_a_merchant_with_a_waba_id_and_changes_it(clean, capsys):
    assert (
        manage.main(
            [
                "create-merchant",
                "Shop",
                "--phone-number-id",
                "4242",
                "--access-token",
                "tok",
                "--waba-id",
                "W1",
            ]
        )
        == 0
    )
    with session_scope() as session:
        [merchant] = session.scalars(select(Merchant)).all()
    assert merchant.whatsapp_business_account_id == "W1"
    assert manage.main(["set-waba", "--merchant-id", str(merchant.id), "--waba-id", "W2"]) == 0
    assert "Business Account W2" in capsys.readouterr().out
    with session_scope() as session:
        assert merchants.get_merchant(session, merchant.id).whatsapp_business_account_id == "W2"


def test_manage_create_templates_prints_each_name_language_and_status(shop, capsys):
    args = ["create-templates", "--merchant-id", str(shop["id"]), "--languages", "en,es"]
    assert manage.main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 * len(TemplateRole)
    assert lines[0].startswith("switchboard_question_request en PENDING")
    assert any(line.startswith("switchboard_support_response es PENDING") for line in lines)


def test_manage_list_templates_can_sync_first(shop, graph, capsys):
    create(shop, ["en"])
    graph.message_templates.set_status("switchboard_question_answer", "en", "APPROVED")
    assert manage.main(["list-templates", "--merchant-id", str(shop["id"])]) == 0
    assert "switchboard_question_answer en PENDING" in capsys.readouterr().out
    assert manage.main(["list-templates", "--merchant-id", str(shop["id"]), "--sync"]) == 0
    assert "switchboard_question_answer en APPROVED" in capsys.readouterr().out


def test_manage_explains_a_missing_waba_id(merchant, capsys):
    assert manage.main(["create-templates", "--merchant-id", str(merchant["id"])]) == 1
    assert "no WhatsApp Business Account id" in capsys.readouterr().err


def test_manage_runs_as_a_script(shop):
    create(shop, ["fr"])
    done = subprocess.run(
        [sys.executable, "scripts/manage.py", "list-templates", "--merchant-id", str(shop["id"])],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "switchboard_question_request fr PENDING" in done.stdout


def test_the_admin_api_takes_and_shows_the_waba_id(client, clean):
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    body = {"name": "Shop", "whatsapp_business_account_id": WABA}
    created = client.post("/api/v1/merchants", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["whatsapp_business_account_id"] == WABA
    listed = client.get("/api/v1/merchants", headers=headers).json()
    assert [m["whatsapp_business_account_id"] for m in listed] == [WABA]


def test_the_default_merchant_gets_the_configured_waba_id(clean):
    options = {
        "phone_number_id": "777",
        "access_token": "t",
        "display_phone_number": None,
        "merchant_name": "Default",
    }
    with session_scope() as session:
        phone = merchants.ensure_phone_number(session, **options, whatsapp_business_account_id="W1")
    with session_scope() as session:
        merchants.ensure_phone_number(session, **options, whatsapp_business_account_id="W2")
        merchant = merchants.get_merchant(session, phone.merchant_id)
        assert merchant.whatsapp_business_account_id == "W2"
    with session_scope() as session:  # without a configured id, the known one stays
        merchants.ensure_phone_number(session, **options)
        merchant = merchants.get_merchant(session, phone.merchant_id)
        assert merchant.whatsapp_business_account_id == "W2"
