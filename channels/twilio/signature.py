"""X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + each parameter's name and value,
sorted by name)), Twilio's documented algorithm for form-encoded POSTs."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def compute_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def valid_signature(
    auth_token: str, url: str, params: Iterable[tuple[str, str]], header: str | None
) -> bool:
    if not header:
        return False
    expected = compute_signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode(), header.encode())
