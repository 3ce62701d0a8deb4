from __future__ import annotations

import json

import pytest

from channels.simulators.webhooks import sign
from channels.webhook import verify_signature
from tests.helpers import load_payload

SECRET = "app-secret-0123456789abcdef"
BODY = json.dumps(load_payload("message_text"), ensure_ascii=False).encode()


def test_a_correct_signature_verifies() -> None:
    assert verify_signature(secret=SECRET.encode(), body=BODY, header=sign(BODY, SECRET))


def test_uppercase_hex_digest_verifies() -> None:
    header = "sha256=" + sign(BODY, SECRET).removeprefix("sha256=").upper()
    assert verify_signature(secret=SECRET.encode(), body=BODY, header=header)


def test_a_signature_made_with_another_secret_fails() -> None:
    assert not verify_signature(secret=SECRET.encode(), body=BODY, header=sign(BODY, "other"))


def test_a_missing_header_fails() -> None:
    assert not verify_signature(secret=SECRET.encode(), body=BODY, header=None)


def test_the_sha256_prefix_is_required() -> None:
    bare = sign(BODY, SECRET).removeprefix("sha256=")
    assert not verify_signature(secret=SECRET.encode(), body=BODY, header=bare)
    assert not verify_signature(secret=SECRET.encode(), body=BODY, header=f"sha1={bare}")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "sha256=",
        "sha256=zz",
        "sha256=" + "g" * 64,
        "sha256=" + "a" * 63,
        "sha256=" + "a" * 65,
        "SHA256=" + "a" * 64,
        " sha256=" + "a" * 64,
        "sha256=" + "a" * 64 + "\n",
        "sha256=" + "é" * 64,
    ],
)
def test_malformed_headers_fail(header: str) -> None:
    assert not verify_signature(secret=SECRET.encode(), body=BODY, header=header)


def test_malformed_header_with_the_right_digest_inside_fails() -> None:
    good = sign(BODY, SECRET)
    assert not verify_signature(secret=SECRET.encode(), body=BODY, header=good + " ")
    assert not verify_signature(secret=SECRET.encode(), body=BODY, header=good + "00")


@pytest.mark.parametrize(
    ("signed", "received"),
    [
        ('{"text":"hi 👍"}', '{"text":"hi 👎"}'),
        ('{"text":"مرحبا"}', '{"text":"مرحب"}'),
        ('{"text":"שלום"}', '{"text":"\u200fשלום"}'),  # an RTL mark is a byte change
        ('{"text":"café"}', '{"text":"cafe\u0301"}'),  # same glyphs, other normalisation
        ('{"a": 1}', '{"a":1}'),  # re-serialised JSON is not the signed body
    ],
)
def test_any_byte_change_to_the_body_breaks_the_signature(signed: str, received: str) -> None:
    header = sign(signed.encode(), SECRET)
    assert verify_signature(secret=SECRET.encode(), body=signed.encode(), header=header)
    assert not verify_signature(secret=SECRET.encode(), body=received.encode(), header=header)


def test_unicode_body_signed_as_raw_utf8_bytes_verifies() -> None:
    body = '{"text":"Olá 👋 مرحبا"}'.encode()
    assert verify_signature(secret=SECRET.encode(), body=body, header=sign(body, SECRET))


def test_an_empty_body_is_still_checked() -> None:
    assert verify_signature(secret=SECRET.encode(), body=b"", header=sign(b"", SECRET))
    assert not verify_signature(secret=SECRET.encode(), body=b" ", header=sign(b"", SECRET))
