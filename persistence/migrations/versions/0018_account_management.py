"""merchants have a greeting and "things the AI must never do"

Both feed the agent's system prompt; existing merchants get empty text (nothing added).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 18:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("merchants", sa.Column("greeting", sa.Text(), nullable=False, server_default=""))
    op.add_column("merchants", sa.Column("ai_rules", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("merchants", "ai_rules")
    op.drop_column("merchants", "greeting")
