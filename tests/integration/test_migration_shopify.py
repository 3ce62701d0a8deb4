"""Migration 0014 (Shopify catalog) on a scratch database: up, searchable, and back."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from persistence.migrate import alembic_config
from tests.integration.test_migrations import MERCHANT, _insert, _rows, scratch  # noqa: F401

pytestmark = pytest.mark.integration


def test_0014_adds_a_searchable_catalog_and_back(scratch):  # noqa: F811
    url, engine = scratch
    config = alembic_config(url)
    before = ScriptDirectory.from_config(config).get_revision("0014").down_revision
    command.upgrade(config, "0014")
    _insert(
        engine,
        MERCHANT,
        "INSERT INTO products (merchant_id, shopify_id, title, handle, description, status, "
        "product_type, vendor, tags, collections, images, language, search_text, "
        "shopify_updated_at) VALUES (1, 1001, 'Zapatillas de running rojas', 'z', '', "
        "'active', '', '', '[]', '[]', '[]', 'es', 'talla 42', now())",
    )
    stemmed = (
        "SELECT shopify_id FROM products WHERE search_vector @@ "
        "plainto_tsquery(switchboard_ts_config('es'), 'zapatilla roja')"
    )
    assert _rows(engine, stemmed) == [(1001,)]  # Spanish stemming: plural and gender
    typo = "SELECT similarity(switchboard_unaccent(lower(title)), 'zapatilas') FROM products"
    assert _rows(engine, typo)[0][0] > 0.2  # pg_trgm on the title
    command.downgrade(config, str(before))
    assert _rows(engine, "SELECT to_regclass('products')") == [(None,)]
