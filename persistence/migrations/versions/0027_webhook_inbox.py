"""webhook inbox: POST /webhook commits the raw signed body here and answers; a worker
drains it, one drainer per shard, in arrival order (issue #19)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01 11:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_inbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("shards", sa.SmallInteger(), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_inbox")),
    )
    op.create_index(
        "ix_webhook_inbox_waiting",
        "webhook_inbox",
        ["shard", "id"],
        postgresql_where=sa.text("error IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_inbox_waiting", table_name="webhook_inbox")
    op.drop_table("webhook_inbox")
