"""Provider credentials encrypted at rest (Fernet), transparently to the code that reads them.

`SECRETS_KEY` holds one or several comma-separated Fernet keys: the first encrypts, every one
decrypts (MultiFernet), so a key is rotated by putting a new one first, re-encrypting
(`scripts/manage.py rotate-secrets`, `rotate_credentials`) and then dropping the old one.
Unset, the key `run_server.py`'s embedded setup generated in `DATA_DIR/secrets-key` is used.
Errors name the setting and never carry a key or a credential.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Connection, Dialect, Table, Text, literal, select, update
from sqlalchemy.types import TypeDecorator

from observability.logs import get_logger
from settings import get_settings

log = get_logger(__name__)

KEY_FILE = "secrets-key"
_FERNET_VERSION = 0x80


class SecretsKeyError(RuntimeError):
    """SECRETS_KEY is missing or wrong, or a stored credential cannot be decrypted with it."""


def parse_keys(value: str) -> MultiFernet:
    """A MultiFernet from comma-separated Fernet keys; the error says which key is wrong."""
    keys = [key.strip() for key in value.split(",") if key.strip()]
    if not keys:
        raise SecretsKeyError("SECRETS_KEY is empty: give one or more Fernet keys")
    fernets = []
    for number, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError, binascii.Error):
            raise SecretsKeyError(
                f"SECRETS_KEY: key {number} of {len(keys)} is not a Fernet key (32 url-safe "
                "base64-encoded bytes; make one with `python scripts/manage.py generate-key`)"
            ) from None  # the cause would quote the key
    return MultiFernet(fernets)


def generate_key() -> str:
    return Fernet.generate_key().decode()


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def ensure_key_file(data_dir: Path) -> Path:
    """The embedded setup's key: made once (mode 0600) and kept, like the other local secrets."""
    path = key_file(data_dir)
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(generate_key() + "\n")
    return path


def configured_keys() -> str:
    """SECRETS_KEY, or the embedded setup's key file in DATA_DIR."""
    settings = get_settings()
    if settings.secrets_key is not None:
        return settings.secrets_key.get_secret_value()
    path = key_file(settings.data_dir)
    try:
        found = path.stat()
    except FileNotFoundError:
        raise SecretsKeyError(
            "SECRETS_KEY is not set: provider credentials are encrypted with it. Set it to a "
            "Fernet key (`python scripts/manage.py generate-key`); keep it safe, stored "
            "credentials cannot be read without it"
        ) from None
    return _key_file_text(path, found.st_ino, found.st_mtime_ns, found.st_size)


@lru_cache(maxsize=4)
def _key_file_text(path: Path, inode: int, modified_ns: int, size: int) -> str:
    """The key file's text, read again only when the file changes (each decrypt asks:
    a stat costs a tenth of a read)."""
    return path.read_text().strip()


def cipher() -> MultiFernet:
    return _cipher_for(configured_keys())


@lru_cache(maxsize=4)
def _cipher_for(keys: str) -> MultiFernet:
    return parse_keys(keys)


def encrypt(plaintext: str) -> str:
    return cipher().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str, *, where: str = "a stored credential") -> str:
    try:
        return cipher().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretsKeyError(
            f"{where} cannot be decrypted with any key in SECRETS_KEY (was the key that "
            "encrypted it removed or lost?)"
        ) from None


def looks_encrypted(value: str) -> bool:
    """Whether a stored value has the shape of a Fernet token (version byte 0x80)."""
    try:
        raw = base64.urlsafe_b64decode(value.encode())
    except (ValueError, binascii.Error):
        return False
    return len(raw) >= 73 and raw[0] == _FERNET_VERSION


class EncryptedString(TypeDecorator[str]):
    """A text column that holds Fernet ciphertext; Python code sees the plaintext.

    Ciphertext is randomised, so the column cannot be compared in SQL (`col == value`
    never matches): load the rows and compare in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        """A value no key decrypts (a lost or removed key) reads as "" and is logged: the
        row stays usable (a number still receives messages, operators still see its
        conversations); only calls with that credential fail, as unauthorized."""
        if value is None:
            return None
        try:
            return decrypt(value)
        except SecretsKeyError as exc:
            log.error("secrets.undecryptable", reason=str(exc))
            return ""


@dataclass(frozen=True)
class Rotation:
    columns: list[str]
    rotated: int


def encrypted_columns(tables: list[Table]) -> list[tuple[Table, str]]:
    return [
        (table, column.name)
        for table in tables
        for column in table.columns
        if isinstance(column.type, EncryptedString)
    ]


def _stored(connection: Connection, tables: list[Table]) -> Iterator[tuple[Table, str, Any, str]]:
    """(table, column, primary key, ciphertext as stored) of every stored credential."""
    for table, name in encrypted_columns(tables):
        column = table.c[name]
        primary_key = list(table.primary_key.columns)[0]
        # the raw text (a cast), not decrypted by EncryptedString
        rows = connection.execute(select(primary_key, column.cast(Text)).where(column.is_not(None)))
        for row_id, stored in rows:
            yield table, name, row_id, stored


def undecryptable_credentials(connection: Connection, tables: list[Table]) -> list[str]:
    """`table.column #id` of each stored credential no key in SECRETS_KEY decrypts."""
    keys = cipher()
    unreadable = []
    for table, name, row_id, stored in _stored(connection, tables):
        try:
            keys.decrypt(stored.encode())
        except InvalidToken:
            unreadable.append(f"{table.name}.{name} #{row_id}")
    return unreadable


def rotate_credentials(connection: Connection, tables: list[Table]) -> Rotation:
    """Re-encrypt every stored credential with the first key of SECRETS_KEY. Nothing is
    written unless every value decrypts, so a missing key is found before anything changes."""
    keys = cipher()
    changes: list[tuple[Table, str, Any, str]] = []
    for table, name, row_id, stored in _stored(connection, tables):
        try:
            changes.append((table, name, row_id, keys.rotate(stored.encode()).decode()))
        except InvalidToken:
            raise SecretsKeyError(
                f"{table.name}.{name} of row {row_id} cannot be decrypted with any key in "
                "SECRETS_KEY: nothing was re-encrypted"
            ) from None
    for table, name, row_id, rotated in changes:
        primary_key = list(table.primary_key.columns)[0]
        # a Text literal: written as it is, not encrypted again by the column's type
        values = {name: literal(rotated, Text())}
        connection.execute(update(table).where(primary_key == row_id).values(values))
    columns = [f"{table.name}.{name}" for table, name in encrypted_columns(tables)]
    return Rotation(columns=columns, rotated=len(changes))
