"""knowledge is searched by passage, without accents, with typo correction

- `pg_trgm`, `fuzzystrmatch` and `unaccent` (trusted extensions shipped with PostgreSQL:
  a database owner may create them) and `switchboard_unaccent`, an IMMUTABLE wrapper a generated
  column can use;
- `document_chunks`: overlapping passages of each published document, with their own
  search vector (title and content unaccented, in the document's language);
- `knowledge_terms`: each merchant's vocabulary, for correcting misspelt query words.

Existing published documents are cut into passages here with a copy of the chunker as it
is today (`services/knowledge/chunking.py`): a migration must do the same thing whenever
it runs, whatever the chunker becomes; the service re-cuts a document when it changes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 15:00:00

"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VECTOR = (
    "setweight(to_tsvector(switchboard_ts_config(language), switchboard_unaccent(title)), 'A') "
    "|| setweight(to_tsvector(switchboard_ts_config(language), switchboard_unaccent(content)), "
    "'B')"
)
INTERNAL_CATEGORIES = ("support_classification",)
TERMS = """
    INSERT INTO knowledge_terms (merchant_id, term)
    SELECT DISTINCT c.merchant_id, w.term
    FROM document_chunks AS c,
         regexp_split_to_table(lower(switchboard_unaccent(c.title || ' ' || c.content)),
                               '[^[:alnum:]]+') AS w(term)
    WHERE length(w.term) BETWEEN 3 AND 64
    ON CONFLICT DO NOTHING
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch")
    op.execute("""
    CREATE OR REPLACE FUNCTION switchboard_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
      SELECT public.unaccent('public.unaccent'::regdictionary, $1)
    $$
    """)
    op.create_table(
        "document_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column(
            "search_vector", postgresql.TSVECTOR(), sa.Computed(_VECTOR, persisted=True),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"],
            name=op.f("fk_document_chunks_document_id_documents"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"],
            name=op.f("fk_document_chunks_merchant_id_merchants"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_chunks")),
        sa.UniqueConstraint(
            "document_id", "position", name=op.f("uq_document_chunks_document_id_position")
        ),
    )  # fmt: skip
    op.create_index("ix_document_chunks_merchant_id", "document_chunks", ["merchant_id"])
    op.create_index(
        "ix_document_chunks_search_vector", "document_chunks", ["search_vector"],
        postgresql_using="gin",
    )  # fmt: skip
    op.create_table(
        "knowledge_terms",
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"],
            name=op.f("fk_knowledge_terms_merchant_id_merchants"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("merchant_id", "term", name=op.f("pk_knowledge_terms")),
    )  # fmt: skip
    op.create_index(
        "ix_knowledge_terms_term_trgm", "knowledge_terms", ["term"], postgresql_using="gin",
        postgresql_ops={"term": "gin_trgm_ops"},
    )  # fmt: skip
    _chunk_published_documents()
    op.execute(TERMS)


def _chunk_published_documents() -> None:
    connection = op.get_bind()
    documents = connection.execute(
        sa.text(
            "SELECT id, merchant_id, title, language, content FROM documents "
            "WHERE status = 'published' AND content <> '' AND category <> ALL(:internal)"
        ),
        {"internal": list(INTERNAL_CATEGORIES)},
    )
    rows = [
        {"document_id": d.id, "merchant_id": d.merchant_id, "position": position,
         "title": d.title, "language": d.language, "content": passage}
        for d in documents
        for position, passage in enumerate(_chunk(d.content))
    ]  # fmt: skip
    if rows:
        connection.execute(
            sa.text(
                "INSERT INTO document_chunks "
                "(document_id, merchant_id, position, title, language, content) VALUES "
                "(:document_id, :merchant_id, :position, :title, :language, :content)"
            ),
            rows,
        )


# --- the chunker of services/knowledge/chunking.py at this revision, frozen -------------
_SIZE, _OVERLAP = 700, 250
_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCES = re.compile(r"(?<=[.!?;:])\s+(?=\S)")


def _chunk(text: str) -> list[str]:
    text = text.strip()
    if len(text) <= _SIZE:
        return [text] if text else []
    passages: list[str] = []
    current: list[str] = []
    for paragraph in _PARAGRAPHS.split(text):
        for sentence in _pieces(paragraph):
            if current and len(" ".join([*current, sentence])) > _SIZE:
                passages.append(" ".join(current))
                current = [current[-1]] if len(current[-1]) <= _OVERLAP else []
            current.append(sentence)
        if current and len(" ".join(current)) > _SIZE // 2:
            passages.append(" ".join(current))
            current = []
    if current:
        passages.append(" ".join(current))
    return passages


def _pieces(paragraph: str) -> list[str]:
    pieces = []
    for sentence in _SENTENCES.split(" ".join(paragraph.split())):
        while len(sentence) > _SIZE:
            cut = sentence.rfind(" ", 0, _SIZE)
            cut = cut if cut > 0 else _SIZE
            pieces.append(sentence[:cut])
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    return pieces


def downgrade() -> None:
    op.drop_table("knowledge_terms")
    op.drop_table("document_chunks")
    op.execute("DROP FUNCTION IF EXISTS switchboard_unaccent(text)")
    # the extensions stay: other objects of the database may have come to use them
