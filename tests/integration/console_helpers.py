"""Signing in to the console and submitting its forms, as a browser does."""

from __future__ import annotations

import re
from typing import Any

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')


def login(client: Any, token: str, *, next_path: str = "/console/inbox") -> Any:
    form = client.get("/console/login")
    login_csrf = LOGIN_CSRF.search(form.text).group(1)
    return client.post(
        "/console/login",
        data={"token": token, "login_csrf": login_csrf, "next": next_path},
        follow_redirects=False,
    )


def csrf_token(client: Any, path: str = "/console/inbox") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return CSRF.search(page.text).group(1)


def submit(client: Any, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """POST a console form with this session's CSRF token, from this origin."""
    token = csrf_token(client)
    return client.post(
        path,
        data={"csrf_token": token, **(data or {})},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
        **kwargs,
    )
