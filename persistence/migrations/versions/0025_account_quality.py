"""account quality: a number's quality rating, a template's quality score, and the digest of
the last Embedded Signup code an onboarding exchanged (a repeat of it changes nothing)

Revision ID: 0025
Revises: 0019
Create Date: 2026-11-30 20:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("phone_numbers", sa.Column("quality_rating", sa.String(16), nullable=True))
    op.add_column("message_templates", sa.Column("quality", sa.String(16), nullable=True))
    op.add_column("whatsapp_onboardings", sa.Column("code_digest", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("whatsapp_onboardings", "code_digest")
    op.drop_column("message_templates", "quality")
    op.drop_column("phone_numbers", "quality_rating")
