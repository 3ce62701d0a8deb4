"""provider credentials are encrypted at rest

The WhatsApp access tokens stored in plaintext are encrypted with the first key of
SECRETS_KEY (persistence/crypto.py). A token that already decrypts is left as it is, so the
upgrade can run again safely; the downgrade decrypts them back. The key is asked for only
when there is a token to change: a new database migrates without one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 17:00:00

"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import InvalidToken

from persistence.crypto import SecretsKeyError, cipher, looks_encrypted

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("phone_numbers", "access_token"),)


def upgrade() -> None:
    def encrypted(value: str) -> str | None:
        keys = cipher()
        try:
            keys.decrypt(value.encode())
            return None  # already encrypted: nothing to do
        except InvalidToken:
            if looks_encrypted(value):
                raise SecretsKeyError(
                    "a stored credential is encrypted with a key that is not in SECRETS_KEY"
                ) from None
        return keys.encrypt(value.encode()).decode()

    _rewrite(encrypted)


def downgrade() -> None:
    def decrypted(value: str) -> str | None:
        try:
            return cipher().decrypt(value.encode()).decode()
        except InvalidToken:
            return None  # plaintext already (or never encrypted)

    _rewrite(decrypted)


def _rewrite(change: Callable[[str], str | None]) -> None:
    connection = op.get_bind()
    for table_name, column in COLUMNS:
        table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column, sa.Text))
        rows = connection.execute(sa.select(table.c.id, table.c[column])).all()
        for row_id, value in rows:
            new = change(value) if value is not None else None
            if new is not None:
                connection.execute(
                    sa.update(table).where(table.c.id == row_id).values({column: new})
                )
