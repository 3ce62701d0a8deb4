"""Data migrations on a scratch database: rows written by the old code come out right."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text

from persistence.migrate import alembic_config

pytestmark = pytest.mark.integration


@pytest.fixture
def scratch(servers) -> Iterator[tuple[str, Engine]]:
    """An empty database of its own, migrated step by step by the test."""
    admin = create_engine(servers["DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS migration_scratch"))
        conn.execute(text("CREATE DATABASE migration_scratch"))
    url = admin.url.set(database="migration_scratch").render_as_string(hide_password=False)
    engine = create_engine(url)
    yield url, engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS migration_scratch WITH (FORCE)"))
    admin.dispose()


def _insert(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _rows(engine: Engine, query: str) -> list[Any]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(query))]


MERCHANT = (
    "INSERT INTO merchants (id, name, description, tone, default_language) "
    "VALUES (1, 'Shop', '', 'kind', 'en')"
)

# a merchant's number, a customer and their conversation (all id 1), after MERCHANT
CONVERSATION = (
    "INSERT INTO phone_numbers (id, merchant_id, phone_number_id, access_token) "
    "VALUES (1, 1, '1065', 'token')",
    "INSERT INTO customers (id, merchant_id, wa_id) VALUES (1, 1, '155512')",
    "INSERT INTO conversations (id, phone_number_id, customer_id, mode, needs_human, "
    "reply_requested) VALUES (1, 1, 1, 'ai', false, false)",
)


def test_0003_withdraws_what_staff_answers_had_published(scratch):
    url, engine = scratch
    command.upgrade(alembic_config(url), "0002")
    _insert(
        engine, MERCHANT,
        "INSERT INTO documents (id, merchant_id, category, title, content, language) VALUES "
        "(1, 1, 'general', 'Opening hours', 'Mon-Fri 9-18', 'en'), "
        "(2, 1, 'user_question', 'Has order #4411 shipped?', 'Yes, DHL 1Z999AA1', 'en'), "
        "(3, 1, 'user_question', 'Is my parcel lost?', '', 'en')",
    )  # fmt: skip
    command.upgrade(alembic_config(url), "0003")
    query = "SELECT id, status, review_note IS NOT NULL FROM documents ORDER BY id"
    assert _rows(engine, query) == [(1, "published", False), (2, "draft", True)]


OLD_TEMPLATE = (
    '{"role": "merchant_user_question_answer", "template": {"name": "switchboard_question_answer",'
    ' "language": {"code": "es"}, "components": [{"type": "body", "parameters": ['
    '{"type": "text", "text": "Shop"}, {"type": "text", "text": "¿Envían?"},'
    ' {"type": "text", "text": "sí, en 5 días"}]}]}}'
)


def test_0004_keeps_templates_in_our_own_shape_and_back(scratch):
    url, engine = scratch
    command.upgrade(alembic_config(url), "0003")
    _insert(
        engine, MERCHANT,
        *CONVERSATION,
        "INSERT INTO messages (id, conversation_id, direction, author, type, text, raw, status, "
        f"send_attempts) VALUES (1, 1, 'out', 'system', 'template', 'Shop: sí', '{OLD_TEMPLATE}',"
        " 'pending', 0), (2, 1, 'out', 'ai', 'text', 'hola', '{\"x\": 1}', 'accepted', 1)",
    )  # fmt: skip
    command.upgrade(alembic_config(url), "0004")
    query = "SELECT id, raw FROM messages ORDER BY id"
    assert _rows(engine, query) == [
        (1, {"role": "merchant_user_question_answer", "template": {
            "name": "switchboard_question_answer", "language": "es",
            "parameters": ["Shop", "¿Envían?", "sí, en 5 días"]}}),
        (2, {"x": 1}),
    ]  # fmt: skip
    command.downgrade(alembic_config(url), "0003")
    (_, raw), _ = _rows(engine, query)
    assert raw["template"]["language"] == {"code": "es"}
    (body,) = raw["template"]["components"]
    assert body["parameters"][2] == {"type": "text", "text": "sí, en 5 días"}


def test_0005_gives_existing_merchants_utc_and_no_hours_and_back(scratch):
    url, engine = scratch
    command.upgrade(alembic_config(url), "0004")
    _insert(engine, MERCHANT)
    command.upgrade(alembic_config(url), "0005")
    assert _rows(engine, "SELECT timezone, opening_hours FROM merchants") == [("UTC", None)]
    command.downgrade(alembic_config(url), "0004")
    assert _rows(engine, "SELECT name FROM merchants") == [("Shop",)]


def test_0006_lets_a_turn_ask_two_questions_and_back(scratch):
    url, engine = scratch
    command.upgrade(alembic_config(url), "0006")
    notification = (
        "INSERT INTO notifications (id, merchant_id, conversation_id, turn_id, type, dedupe_key,"
        " status, context, answer_schema, allow_multiple_answers) VALUES ({id}, 1, 1, 1,"
        " 'user_question_request', '{key}', 'requested', '{{}}', '{{}}', false)"
    )
    _insert(
        engine, MERCHANT,
        *CONVERSATION,
        "INSERT INTO turns (id, conversation_id, attempts) VALUES (1, 1, 1)",
        notification.format(id=1, key="a"), notification.format(id=2, key="b"),
    )  # fmt: skip
    command.downgrade(alembic_config(url), "0005")
    assert _rows(engine, "SELECT id, turn_id FROM notifications ORDER BY id") == [(1, 1), (2, None)]


LONG_POLICY = "\n\n".join(f"Section {n}. " + f"Rule {n} of the returns policy applies. " * 12
                          for n in range(1, 5))  # fmt: skip


def test_0007_cuts_published_documents_into_passages_and_builds_their_vocabulary(scratch):
    url, engine = scratch
    command.upgrade(alembic_config(url), "0006")
    _insert(
        engine, MERCHANT,
        "INSERT INTO documents (id, merchant_id, category, title, content, language, status) "
        "VALUES (1, 1, 'general', 'Opening hours', 'Mon-Fri 9-18', 'en', 'published'), "
        f"(2, 1, 'policy', 'Returns', '{LONG_POLICY}', 'en', 'published'), "
        "(3, 1, 'user_question', 'Gift wrap?', 'Yes, for 2 euros.', 'en', 'draft'), "
        "(4, 1, 'support_classification', 'returns', 'refunds', 'en', 'published'), "
        "(5, 1, 'general', 'Envíos', 'Enviamos en 48 horas.', 'es', 'published')",
    )  # fmt: skip
    command.upgrade(alembic_config(url), "0007")
    chunks = _rows(engine, "SELECT document_id, count(*) FROM document_chunks "
                           "GROUP BY document_id ORDER BY document_id")  # fmt: skip
    assert chunks[0] == (1, 1) and chunks[1][0] == 2 and chunks[1][1] >= 4
    assert [document for document, _ in chunks] == [1, 2, 5]  # no draft, nothing internal
    terms = {term for (term,) in _rows(engine, "SELECT term FROM knowledge_terms")}
    assert {"opening", "returns", "envios", "horas"} <= terms and "refunds" not in terms
    accentless = "SELECT document_id FROM document_chunks WHERE search_vector @@ " \
                 "plainto_tsquery('spanish', 'envio')"  # fmt: skip
    (found,) = _rows(engine, accentless)
    assert found == (5,)  # accents removed
    command.downgrade(alembic_config(url), "0006")
    assert _rows(engine, "SELECT to_regclass('document_chunks')") == [(None,)]


def test_0012_encrypts_stored_access_tokens_once_and_back(scratch):
    from alembic.script import ScriptDirectory
    from cryptography.fernet import Fernet

    from tests.conftest import SECRETS_KEY

    url, engine = scratch
    config = alembic_config(url)
    before = ScriptDirectory.from_config(config).get_revision("0012").down_revision
    command.upgrade(config, str(before))
    _insert(engine, MERCHANT, CONVERSATION[0])  # access_token 'token', in plaintext
    command.upgrade(config, "0012")
    [(stored,)] = _rows(engine, "SELECT access_token FROM phone_numbers")
    assert stored.startswith("gAAAA") and Fernet(SECRETS_KEY).decrypt(stored.encode()) == b"token"

    _insert(engine, f"UPDATE alembic_version SET version_num = '{before}'")
    command.upgrade(config, "0012")  # again, over rows already encrypted: left as they are
    assert _rows(engine, "SELECT access_token FROM phone_numbers") == [(stored,)]

    command.downgrade(config, str(before))
    assert _rows(engine, "SELECT access_token FROM phone_numbers") == [("token",)]


def test_0012_needs_no_key_when_no_token_is_stored(scratch, monkeypatch, tmp_path):
    from settings import get_settings

    url, engine = scratch
    monkeypatch.delenv("SECRETS_KEY")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))  # no generated key there either
    get_settings.cache_clear()
    try:
        command.upgrade(alembic_config(url), "0012")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert _rows(engine, "SELECT version_num FROM alembic_version") == [("0012",)]


def test_0011_adds_usernames_and_search_indexes_and_back(scratch):
    url, engine = scratch
    command.upgrade(alembic_config(url), "0007")
    _insert(engine, MERCHANT, *CONVERSATION)
    command.upgrade(alembic_config(url), "0011")
    assert _rows(engine, "SELECT wa_id, username FROM customers") == [("155512", None)]
    ours = ("SELECT indexname FROM pg_indexes WHERE indexname IN "
            "('ix_messages_text_search', 'ix_customers_identity_trgm') ORDER BY 1")  # fmt: skip
    assert _rows(engine, ours) == [("ix_customers_identity_trgm",), ("ix_messages_text_search",)]
    command.downgrade(alembic_config(url), "0007")
    assert _rows(engine, "SELECT wa_id FROM customers") == [("155512",)]
    assert _rows(engine, ours) == []


def test_0016_opens_existing_conversations_for_the_desk_and_back(scratch):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from persistence.models import Base

    url, engine = scratch
    command.upgrade(alembic_config(url), "0012")
    _insert(engine, MERCHANT, *CONVERSATION)
    command.upgrade(alembic_config(url), "head")  # the models are compared with the head
    desk = "SELECT status, priority, labels, assignee_id FROM conversations"
    assert _rows(engine, desk) == [("open", "normal", [], None)]
    with engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = ("canned_responses", "conversation_notes", "status", "priority", "labels",
            "assignee", "resolved_", "last_seen_at", "last_assigned_at")  # fmt: skip
    assert [d for d in drift if any(name in str(d) for name in ours)] == []
    command.downgrade(alembic_config(url), "0012")
    assert _rows(engine, "SELECT id FROM conversations") == [(1,)]


def test_0019_adds_csat_responses_as_the_model_has_them_and_back(scratch):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from persistence.models import Base

    url, engine = scratch
    command.upgrade(alembic_config(url), "0019")
    with engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in drift if "csat" in str(d)] == []
    command.downgrade(alembic_config(url), "0017")
    assert _rows(engine, "SELECT to_regclass('csat_responses')") == [(None,)]


def test_0020_makes_existing_numbers_whatsapp_cloud_accounts_and_back(scratch):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from persistence.models import Base

    url, engine = scratch
    command.upgrade(alembic_config(url), "0019")
    _insert(engine, MERCHANT, *CONVERSATION)
    command.upgrade(alembic_config(url), "0020")
    assert _rows(engine, "SELECT type, phone_number_id FROM phone_numbers") == [
        ("whatsapp_cloud", "1065")
    ]
    with engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    added_later = "quality_rating"  # by 0025
    assert [d for d in drift if "phone_numbers" in str(d) and added_later not in str(d)] == []
    # the same provider id under another type is another account
    _insert(
        engine,
        "INSERT INTO phone_numbers (id, merchant_id, type, phone_number_id, access_token) "
        "VALUES (2, 1, 'instagram', '1065', 'token')",
    )
    command.downgrade(alembic_config(url), "0019")
    assert _rows(engine, "SELECT phone_number_id FROM phone_numbers") == [("1065",)]
    assert _rows(engine, "SELECT count(*) FROM conversations") == [(1,)]


def test_0022_adds_orders_codes_and_opt_out_as_the_models_have_them_and_back(scratch):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from persistence.models import Base

    url, engine = scratch
    command.upgrade(alembic_config(url), "0022")
    with engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = ("shopify_orders", "order_events", "order_codes", "order_updates_opt_out")
    assert [d for d in drift if any(name in str(d) for name in ours)] == []
    command.downgrade(alembic_config(url), "0019")
    assert _rows(engine, "SELECT to_regclass('order_codes')") == [(None,)]
    assert _rows(engine, "SELECT count(*) FROM information_schema.columns WHERE "
                         "column_name = 'order_updates_opt_out'") == [(0,)]  # fmt: skip


def test_0023_adds_carts_as_the_model_has_them_and_back(scratch):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from persistence.models import Base

    url, engine = scratch
    command.upgrade(alembic_config(url), "0023")
    with engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in drift if "cart" in str(d)] == []
    command.downgrade(alembic_config(url), "0019")
    assert _rows(engine, "SELECT to_regclass('carts'), to_regclass('cart_lines')") == [(None, None)]


def test_0026_stores_message_search_vectors_for_existing_messages_and_back(scratch):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from persistence.models import Base

    url, engine = scratch
    command.upgrade(alembic_config(url), "0025")
    _insert(engine, MERCHANT, *CONVERSATION,
            "INSERT INTO messages (conversation_id, direction, author, type, text, status, "
            "send_attempts) VALUES (1, 'in', 'customer', 'text', 'Envío roto', 'received', 0), "
            "(1, 'in', 'customer', 'image', NULL, 'received', 0)")  # fmt: skip
    indexes = ("SELECT indexname FROM pg_indexes WHERE indexname IN "
               "('ix_messages_text_search', 'ix_messages_search_vector')")  # fmt: skip
    command.upgrade(alembic_config(url), "0026")
    found = "SELECT type FROM messages WHERE search_vector @@ to_tsquery('simple', 'envio')"
    assert _rows(engine, found) == [("text",)]  # written for the rows already there
    assert _rows(engine, indexes) == [("ix_messages_search_vector",)]
    with engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in drift if "search_vector" in str(d)] == []
    command.downgrade(alembic_config(url), "0025")
    assert _rows(engine, indexes) == [("ix_messages_text_search",)]
    assert _rows(
        engine,
        "SELECT count(*) FROM information_schema.columns WHERE "
        "column_name = 'search_vector' AND table_name = 'messages'",
    ) == [(0,)]


def test_0027_adds_the_webhook_inbox_as_the_model_has_it_and_back(scratch):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from persistence.models import Base

    url, engine = scratch
    command.upgrade(alembic_config(url), "0027")
    _insert(engine, "INSERT INTO webhook_inbox (channel, body, shard, shards) "
                    "VALUES ('whatsapp_cloud', '\\x7b7d', 3, 16)")  # fmt: skip
    assert _rows(engine, "SELECT id, body, error FROM webhook_inbox") == [(1, b"{}", None)]
    with engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in drift if "webhook_inbox" in str(d)] == []
    command.downgrade(alembic_config(url), "0026")
    assert _rows(engine, "SELECT to_regclass('webhook_inbox')") == [(None,)]


def test_0028_adds_the_turn_read_indexes_as_the_model_has_them_and_back(scratch):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from persistence.models import Base

    url, engine = scratch
    names = ("ix_messages_notes", "ix_messages_conversation_written",
             "ix_messages_parked_in_flight")  # fmt: skip
    query = f"SELECT indexname FROM pg_indexes WHERE indexname IN {names} ORDER BY 1"
    command.upgrade(alembic_config(url), "0028")
    assert _rows(engine, query) == sorted((name,) for name in names)
    with engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in drift if any(name in str(d) for name in names)] == []
    command.downgrade(alembic_config(url), "0027")
    assert _rows(engine, query) == []
