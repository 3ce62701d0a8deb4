"""the merchant's own templates, and staff claiming a notification

message_templates also holds every template of the merchant's WhatsApp Business Account
(imported by sync_templates): such rows have no role, and keep Meta's components (header,
body, footer, buttons) and parameter format so people can preview and fill them.
notifications record who tapped "I'll answer" on the request (claimed_by...).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 18:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("message_templates", "role", existing_type=sa.String(48), nullable=True)
    op.add_column(
        "message_templates",
        sa.Column(
            "components",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column(
        "message_templates",
        sa.Column(
            "parameter_format", sa.String(16), server_default="POSITIONAL", nullable=False
        ),
    )
    op.add_column("notifications", sa.Column("claimed_by", sa.String(200), nullable=True))
    op.add_column(
        "notifications",
        sa.Column(
            "claimed_by_user_id",
            sa.Integer(),
            sa.ForeignKey(
                "merchant_users.id",
                ondelete="SET NULL",
                name="fk_notifications_claimed_by_user_id_merchant_users",
            ),
            nullable=True,
        ),
    )
    op.add_column(
        "notifications", sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("notifications", "claimed_at")
    op.drop_column("notifications", "claimed_by_user_id")
    op.drop_column("notifications", "claimed_by")
    op.drop_column("message_templates", "parameter_format")
    op.drop_column("message_templates", "components")
    op.execute("DELETE FROM message_templates WHERE role IS NULL")
    op.alter_column("message_templates", "role", existing_type=sa.String(48), nullable=False)
