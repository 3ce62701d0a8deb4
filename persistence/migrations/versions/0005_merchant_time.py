"""merchants have a time zone and opening hours

The model is told the merchant's local time and whether the business is open now.
Existing merchants get UTC and no hours until an admin sets them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 14:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "merchants",
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    )
    op.add_column("merchants", sa.Column("opening_hours", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("merchants", "opening_hours")
    op.drop_column("merchants", "timezone")
