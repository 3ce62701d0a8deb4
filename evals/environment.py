"""Where an evaluation runs: a real PostgreSQL (embedded in a temporary directory unless
DATABASE_URL names one), the merchants seeded into it, and the LLM simulator replaying
recorded model answers when no model key is configured."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from evals.merchants import EvalMerchant

EVALS_KEY = "evals-replay-key"
# settings that could point the evaluation at a developer's real services
_LLM_SETTINGS = (
    "LLM_PROVIDER", "LLM_FALLBACK_PROVIDER", "GOOGLE_API_KEY", "GEMINI_BASE_URL",
    "OPENAI_API_KEY", "OPENAI_BASE_URL",
)  # fmt: skip


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """`url`, or an embedded PostgreSQL in a fresh temporary directory; migrated."""
    data = Path(tempfile.mkdtemp(prefix="switchboard-evals-"))
    server = None
    try:
        if not url:
            from persistence.embedded import start_postgres

            server, url = start_postgres(data / "postgres")
        os.environ.update({"DATABASE_URL": url, "DATA_DIR": str(data)})
        _settings_changed()
        from persistence.crypto import ensure_key_file

        ensure_key_file(data)  # the seeded numbers' tokens are encrypted, as in the embedded setup
        from persistence.migrate import upgrade

        upgrade(url)
        yield url
    finally:
        from persistence.db import get_engine

        get_engine().dispose()
        if server is not None:
            server.cleanup()
        shutil.rmtree(data, ignore_errors=True)


def model_configured() -> bool:
    from graph.llm import configured_providers
    from settings import get_settings

    return bool(configured_providers(get_settings()))


@contextmanager
def replayed_model(respond: Callable[[str], dict[str, Any]]) -> Iterator[Any]:
    """Point the LLM settings at a Gemini simulator whose structured answers come from
    `respond(prompt text)`: recorded answers, deterministic, no network."""
    from channels.simulators.llm_gemini import GeminiSimulator

    simulator = GeminiSimulator(api_key=EVALS_KEY).start()
    simulator.structured = lambda body, schema: respond(
        "\n".join(simulator.user_texts(body))
    )
    saved = {name: os.environ.pop(name, None) for name in _LLM_SETTINGS}
    os.environ.update(
        {"LLM_PROVIDER": "gemini", "GOOGLE_API_KEY": EVALS_KEY,
         "GEMINI_BASE_URL": simulator.base_url, "LLM_MAX_RETRIES": "0"}
    )  # fmt: skip
    _settings_changed()
    try:
        yield simulator
    finally:
        simulator.stop()
        restore(saved)


def restore(saved: dict[str, str | None]) -> None:
    """Put these settings back as they were (None: unset), and forget the cached ones."""
    for name, value in saved.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value
    _settings_changed()


def _settings_changed() -> None:
    from persistence.db import get_engine, get_sessionmaker
    from settings import get_settings

    get_settings.cache_clear()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()


@contextmanager
def seeded(merchants: tuple[EvalMerchant, ...]) -> Iterator[dict[str, tuple[int, dict[str, int]]]]:
    """The merchants with their documents and staff: key -> (merchant id, doc key -> id).
    They are deleted afterwards (the database may be a shared one)."""
    from persistence.db import session_scope
    from persistence.models import Merchant
    from services.knowledge import knowledge
    from services.merchants.merchant import add_merchant_user, create_merchant

    ids: dict[str, tuple[int, dict[str, int]]] = {}
    try:
        with session_scope() as session:
            for m in merchants:
                row = create_merchant(
                    session, name=f"[evals] {m.name}", description=m.description,
                    tone=m.tone, default_language=m.language,
                )  # fmt: skip
                ids[m.key] = (row.id, {})
                for doc in m.docs:
                    ids[m.key][1][doc.key] = knowledge.create_document(
                        session, merchant_id=row.id, title=doc.title, content=doc.content,
                        category=doc.category, language=m.language,
                    ).id  # fmt: skip
                for person in m.staff:
                    add_merchant_user(
                        session, merchant_id=row.id, name=person.name, wa_id=person.wa_id,
                        type=person.type,
                    )  # fmt: skip
                    knowledge.create_document(
                        session, merchant_id=row.id, title=person.type, content=person.handles,
                        category=knowledge.SUPPORT_CLASSIFICATION, language=m.language,
                    )  # fmt: skip
        yield ids
    finally:
        with session_scope() as session:
            merchant_ids = [merchant_id for merchant_id, _ in ids.values()]
            session.execute(delete(Merchant).where(Merchant.id.in_(merchant_ids)))
