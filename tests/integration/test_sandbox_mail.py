"""The sandbox's Mail page (#14): without SMTP, the mails a merchant sends (order-lookup
codes) are recorded for that merchant alone and shown, escaped, on their sandbox's Mail
page; another merchant's operator sees none of them and asking for theirs is a 404."""

from __future__ import annotations

import pytest

from services.mail.mailer import RECORDED_KEEP, Mail, MailError, send_mail
from tests.integration import sandbox_helpers

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument"),
]
sandbox_app, shops = sandbox_helpers.sandbox_app, sandbox_helpers.shops  # the fixtures


_as = sandbox_helpers.signed_in


def test_a_merchants_mail_shows_on_their_sandbox_mail_page_only(sandbox_app, shops):
    body = "Your code is 482913.\n<script>alert('x')</script>"
    send_mail(Mail(to="ana@example.com", subject="Alpha Bikes: your code 482913", body=body),
              merchant_id=shops["a"])  # fmt: skip
    client = _as(sandbox_app, shops["a_token"])
    assert 'href="/sandbox/mail?merchant_id=' in client.get("/sandbox").text
    page = client.get("/sandbox/mail")
    assert page.status_code == 200
    assert "Alpha Bikes: your code 482913" in page.text and "ana@example.com" in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    assert client.get(f"/sandbox/mail?merchant_id={shops['a']}").text.count("482913") == 2

    client = _as(sandbox_app, shops["b_token"])
    own = client.get("/sandbox/mail")
    assert own.status_code == 200 and "482913" not in own.text and "No mail yet" in own.text
    assert client.get(f"/sandbox/mail?merchant_id={shops['a']}").status_code == 404


def test_the_mail_page_keeps_the_newest_mails_first(sandbox_app, shops):
    for n in range(RECORDED_KEEP + 2):
        send_mail(Mail(to="ana@example.com", subject=f"mail number {n:03d}", body="-"),
                  merchant_id=shops["a"])  # fmt: skip
    text = _as(sandbox_app, shops["a_token"]).get("/sandbox/mail").text
    newest, oldest_kept = f"mail number {RECORDED_KEEP + 1:03d}", "mail number 002"
    assert text.index(newest) < text.index(oldest_kept)
    assert "mail number 001" not in text and "mail number 000" not in text


def test_signed_out_the_mail_page_asks_to_sign_in(sandbox_app, shops):
    send_mail(Mail(to="ana@example.com", subject="code 482913", body="482913"),
              merchant_id=shops["a"])  # fmt: skip
    sandbox_app.cookies.clear()
    answer = sandbox_app.get(f"/sandbox/mail?merchant_id={shops['a']}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login")
    assert "482913" not in answer.text


def test_with_smtp_set_a_mail_is_sent_not_recorded(sandbox_app, shops, monkeypatch):
    from persistence.embedded import free_port
    from settings import get_settings

    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(free_port()))  # nothing listens: the send fails
    get_settings.cache_clear()
    try:
        with pytest.raises(MailError, match="SMTP"):
            send_mail(Mail(to="ana@example.com", subject="code 482913", body="482913"),
                      merchant_id=shops["a"])  # fmt: skip
    finally:
        monkeypatch.delenv("SMTP_HOST")
        get_settings.cache_clear()
    assert "482913" not in _as(sandbox_app, shops["a_token"]).get("/sandbox/mail").text
