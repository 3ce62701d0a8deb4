"""numbers connected through Embedded Signup keep their onboarding's progress

`whatsapp_onboardings`: one row per number, the next step, its status and error, and the
business token and registration PIN (both Fernet ciphertext, SECRETS_KEY).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 17:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_onboardings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("phone_number_id", sa.String(64), nullable=False),
        sa.Column("waba_id", sa.String(64), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("pin", sa.Text(), nullable=True),
        sa.Column("display_phone_number", sa.String(32), nullable=True),
        sa.Column("verified_name", sa.String(200), nullable=True),
        sa.Column("quality_rating", sa.String(16), nullable=True),
        sa.Column("messaging_limit", sa.String(32), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name="fk_whatsapp_onboardings_merchant_id_merchants",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_whatsapp_onboardings"),
        sa.UniqueConstraint("phone_number_id", name="uq_whatsapp_onboardings_phone_number_id"),
    )


def downgrade() -> None:
    op.drop_table("whatsapp_onboardings")
