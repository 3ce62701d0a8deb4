"""Credentials at rest: the encrypted column type, key rotation, and clear key errors."""

from __future__ import annotations

import base64
import os
import stat
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.dialects import postgresql

from persistence.crypto import (
    EncryptedString,
    SecretsKeyError,
    cipher,
    decrypt,
    encrypt,
    ensure_key_file,
    looks_encrypted,
    parse_keys,
)
from settings import Settings, get_settings

# fixed keys: pytest-xdist workers must collect the same parametrized test ids
OLD = base64.urlsafe_b64encode(b"o" * 32).decode()
NEW = base64.urlsafe_b64encode(b"n" * 32).decode()
TOKEN = "EAAG-unit-secret-4f9c"
DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[str | None], None]]:
    """`keys("k1,k2")` sets SECRETS_KEY (None unsets it) in an empty DATA_DIR."""

    def use(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("SECRETS_KEY", raising=False)
        else:
            monkeypatch.setenv("SECRETS_KEY", value)
        get_settings.cache_clear()

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    use(OLD)
    yield use
    monkeypatch.undo()
    get_settings.cache_clear()


def test_the_column_stores_ciphertext_and_gives_back_plaintext(keys):
    column = EncryptedString()
    stored = column.process_bind_param(TOKEN, DIALECT)
    assert stored is not None and stored.startswith("gAAAA") and TOKEN not in stored
    assert looks_encrypted(stored) and not looks_encrypted(TOKEN)
    assert column.process_result_value(stored, DIALECT) == TOKEN
    assert column.process_bind_param(None, DIALECT) is None
    assert stored != column.process_bind_param(TOKEN, DIALECT)  # randomised: never compared in SQL


def test_the_first_key_encrypts_and_every_key_decrypts(keys):
    old_ciphertext = encrypt(TOKEN)
    keys(f"{NEW},{OLD}")
    assert decrypt(old_ciphertext) == TOKEN
    new_ciphertext = encrypt(TOKEN)
    assert Fernet(NEW).decrypt(new_ciphertext.encode()).decode() == TOKEN
    rotated = cipher().rotate(old_ciphertext.encode())
    keys(NEW)  # the old key dropped: what was rotated still reads, what was not does not
    assert Fernet(NEW).decrypt(rotated).decode() == TOKEN
    with pytest.raises(SecretsKeyError, match="SECRETS_KEY") as caught:
        decrypt(old_ciphertext, where="phone_numbers.access_token")
    assert "phone_numbers.access_token" in str(caught.value)
    assert NEW not in str(caught.value) and old_ciphertext not in str(caught.value)


def test_a_value_no_key_decrypts_reads_as_empty_and_is_logged(keys, caplog):
    stored = EncryptedString().process_bind_param(TOKEN, DIALECT)
    keys(NEW)  # the key that encrypted it was lost
    assert EncryptedString().process_result_value(stored, DIALECT) == ""
    assert "secrets.undecryptable" in caplog.text and "SECRETS_KEY" in caplog.text
    assert TOKEN not in caplog.text and str(stored) not in caplog.text and NEW not in caplog.text


@pytest.mark.parametrize("value", ["not-a-key", f"{OLD},short", "  , ", OLD[:-4]])
def test_a_bad_key_is_a_clear_error_naming_the_setting_without_the_key(value):
    with pytest.raises(SecretsKeyError, match="SECRETS_KEY") as caught:
        parse_keys(value)
    shown = "".join(traceback.format_exception(caught.value))  # what a crash would print
    for part in (p.strip() for p in value.split(",") if p.strip()):
        assert part not in shown


def test_a_bad_key_in_the_environment_fails_at_first_use_with_the_setting_named(keys):
    keys(f"{OLD},nope-this-is-no-key")
    with pytest.raises(SecretsKeyError, match=r"SECRETS_KEY: key 2 of 2") as caught:
        encrypt(TOKEN)
    assert "nope-this-is-no-key" not in str(caught.value)


def test_without_a_key_the_embedded_key_file_is_used_else_the_error_says_what_to_set(
    keys, tmp_path
):
    keys(None)
    with pytest.raises(SecretsKeyError, match="SECRETS_KEY is not set"):
        encrypt(TOKEN)
    path = ensure_key_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_key_file(tmp_path).read_text() == path.read_text()  # made once, kept
    stored = encrypt(TOKEN)
    assert Fernet(path.read_text().strip()).decrypt(stored.encode()).decode() == TOKEN
    # a key file put in its place is read from then on
    replacement = tmp_path / "new-key"
    replacement.write_text(f"{NEW}\n")
    os.replace(replacement, path)
    assert Fernet(NEW).decrypt(encrypt(TOKEN).encode()).decode() == TOKEN
    with pytest.raises(SecretsKeyError, match="cannot be decrypted"):
        decrypt(stored)


def _settings(tmp_path: Path, **values: str) -> Settings:
    return Settings(data_dir=tmp_path, **values)  # type: ignore[arg-type]


@pytest.fixture
def no_key_in_environment(monkeypatch):
    """The integration fixtures export SECRETS_KEY and server URLs; these tests are about
    what run_server.py does without a key, embedded or not."""
    for name in ("SECRETS_KEY", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_key_in_environment")
def test_run_server_generates_the_key_once_in_the_embedded_setup(tmp_path):
    from run_server import secrets_key_environment

    first = secrets_key_environment(_settings(tmp_path))
    again = secrets_key_environment(_settings(tmp_path))
    assert first == again and parse_keys(first["SECRETS_KEY"])
    assert stat.S_IMODE((tmp_path / "secrets-key").stat().st_mode) == 0o600


@pytest.mark.usefixtures("no_key_in_environment")
def test_run_server_refuses_to_start_a_deployment_without_a_key_or_with_a_bad_one(tmp_path):
    from run_server import secrets_key_environment

    servers = {"database_url": "postgresql+psycopg://db/x", "redis_url": "redis://cache"}
    with pytest.raises(SystemExit, match="SECRETS_KEY is not set"):
        secrets_key_environment(_settings(tmp_path, **servers))
    assert not (tmp_path / "secrets-key").exists()
    with pytest.raises(SystemExit) as caught:
        secrets_key_environment(_settings(tmp_path, **servers, secrets_key="hunter2-not-fernet"))
    assert "SECRETS_KEY" in str(caught.value.code) and "hunter2" not in str(caught.value.code)
    assert secrets_key_environment(_settings(tmp_path, **servers, secrets_key=NEW)) == {}
