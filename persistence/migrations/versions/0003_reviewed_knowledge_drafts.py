"""knowledge documents get a status; staff answers stop being public knowledge

Until now a customer's escalated question became a published document titled with the
customer's own words and filled with the staff's answer to that customer, searchable by
every customer of the merchant: a personal-data leak. From here on only reviewed drafts of
lasting public facts are published. This migration withdraws what the old flow created:
- answered `user_question` documents become drafts with a review note (a person rewrites
  them as general facts and publishes them, or deletes them);
- unanswered ones (an empty content, only the customer's words) are deleted; the question
  itself stays on its notification.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 11:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITHDRAWN_NOTE = (
    "Withdrawn in the privacy review of 2026-11: the title is a customer's own question and "
    "the content the team's answer to that customer, and both were searchable by every "
    "customer. Rewrite it as a general fact with no personal detail (names, order numbers, "
    "addresses, tracking numbers) and publish it, or delete it."
)


def upgrade() -> None:
    op.add_column(
        "documents",
        sa.Column(
            "status",
            sa.Enum("draft", "published", name="documentstatus", native_enum=False, length=16),
            server_default="published",
            nullable=False,
        ),
    )
    op.add_column("documents", sa.Column("review_note", sa.Text(), nullable=True))
    op.execute("DELETE FROM documents WHERE category = 'user_question' AND content = ''")
    op.execute(
        sa.text(
            "UPDATE documents SET status = 'draft', review_note = :note "
            "WHERE category = 'user_question'"
        ).bindparams(note=WITHDRAWN_NOTE)
    )
    op.execute("UPDATE notifications SET context = context - 'document_id'")


def downgrade() -> None:
    op.drop_column("documents", "review_note")
    op.drop_column("documents", "status")
