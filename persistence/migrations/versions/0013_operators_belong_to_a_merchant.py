"""operators belong to a merchant

`operators.merchant_id` (NULL only for platform admins, who see every merchant). Existing
operators move to the default merchant, the one with the lowest id, so nobody keeps
all-merchant rights by accident; when there is no merchant yet they are left platform-wide
(NULL), as they were.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 17:15:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("operators", sa.Column("merchant_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_operators_merchant_id_merchants"),
        "operators",
        "merchants",
        ["merchant_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(op.f("ix_operators_merchant_id"), "operators", ["merchant_id"])
    op.execute("UPDATE operators SET merchant_id = (SELECT min(id) FROM merchants)")


def downgrade() -> None:
    op.drop_index(op.f("ix_operators_merchant_id"), table_name="operators")
    op.drop_constraint(
        op.f("fk_operators_merchant_id_merchants"), "operators", type_="foreignkey"
    )
    op.drop_column("operators", "merchant_id")
