"""customers are searched and shown by who they are

- `customers.username`: the WhatsApp username sent with the contact (the phone number may
  be absent for customers who use one);
- `ix_messages_text_search`: full text over message text (`simple` configuration without
  accents, so it works whatever the language) for `GET /api/v1/conversations?q=`;
- `ix_customers_identity_trgm`: trigram index over name, username, number and user id, so
  `GET /api/v1/customers?q=` (a substring match) stays an index scan.

Revision ID: 0011
Revises: 0007
Create Date: 2026-11-30 16:45:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Both expressions must stay identical to the ones in services/customers/queries.py.
MESSAGE_VECTOR = "to_tsvector('simple', switchboard_unaccent(coalesce(text, '')))"
CUSTOMER_IDENTITY = (
    "lower(switchboard_unaccent(coalesce(profile_name, '') || ' ' || coalesce(username, '') "
    "|| ' ' || coalesce(wa_id, '') || ' ' || coalesce(user_id, '')))"
)


def upgrade() -> None:
    op.add_column("customers", sa.Column("username", sa.String(64), nullable=True))
    op.execute(
        f"CREATE INDEX ix_messages_text_search ON messages USING gin ({MESSAGE_VECTOR}) "
        "WHERE text IS NOT NULL"
    )
    op.execute(
        f"CREATE INDEX ix_customers_identity_trgm ON customers "
        f"USING gin (({CUSTOMER_IDENTITY}) gin_trgm_ops)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_customers_identity_trgm")
    op.execute("DROP INDEX IF EXISTS ix_messages_text_search")
    op.drop_column("customers", "username")
