"""channel accounts: a business number row can be a WhatsApp Cloud number, a Twilio
WhatsApp sender or an Instagram professional account

`phone_numbers` stays the table every conversation hangs off; `type` says which provider
speaks for it (existing rows are `whatsapp_cloud`). `phone_number_id` holds the provider's
id of the account (Meta's phone number id, the Twilio sender `+14155238886`, the Instagram
account id), unique per type. `access_token` (encrypted) holds the provider secret
(Cloud/Instagram access token, Twilio auth token); `account_sid` is Twilio's account;
`content_sids` maps our template roles to Twilio Content API `ContentSid`s.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 20:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "phone_numbers",
        sa.Column("type", sa.String(32), nullable=False, server_default="whatsapp_cloud"),
    )
    op.add_column("phone_numbers", sa.Column("account_sid", sa.String(64), nullable=True))
    op.add_column("phone_numbers", sa.Column("content_sids", JSONB(), nullable=True))
    op.drop_constraint("uq_phone_numbers_phone_number_id", "phone_numbers", type_="unique")
    op.create_unique_constraint(
        "uq_phone_numbers_type_phone_number_id", "phone_numbers", ["type", "phone_number_id"]
    )


def downgrade() -> None:
    op.drop_constraint("uq_phone_numbers_type_phone_number_id", "phone_numbers", type_="unique")
    op.execute("DELETE FROM phone_numbers WHERE type <> 'whatsapp_cloud'")
    op.create_unique_constraint(
        "uq_phone_numbers_phone_number_id", "phone_numbers", ["phone_number_id"]
    )
    op.drop_column("phone_numbers", "content_sids")
    op.drop_column("phone_numbers", "account_sid")
    op.drop_column("phone_numbers", "type")
