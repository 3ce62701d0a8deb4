"""The pluggable mailer: `send_mail` picks SMTP (SMTP_HOST set) or the recording mailer."""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from typing import Protocol

import redis

from observability.logs import get_logger
from persistence.buffer import process_buffer
from settings import Settings, get_settings

log = get_logger(__name__)
RECORDED_KEEP = 50
RECORDED_TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class RecordedMail:
    to: str
    subject: str
    body: str
    at: float  # when it was recorded (epoch seconds)


class MailError(Exception):
    """The mail could not be handed to the server; the message says why (never a secret)."""


class Mailer(Protocol):
    def send(self, mail: Mail) -> None: ...


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def send(self, mail: Mail) -> None:
        s = self._settings
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = s.smtp_from, mail.to, mail.subject
        message.set_content(mail.body)
        try:
            smtp = smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=s.smtp_timeout_seconds)
            with smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_username and s.smtp_password:
                    smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"SMTP: {type(exc).__name__}") from None


class RecordingMailer:
    """Keeps the merchant's mail in Redis (their newest RECORDED_KEEP): the sandbox's Mail
    page shows them to that merchant's operators only."""

    def __init__(self, merchant_id: int) -> None:
        self._key = _recorded_key(merchant_id)

    def send(self, mail: Mail) -> None:
        pipe = process_buffer().client.pipeline()
        pipe.lpush(self._key, json.dumps({**asdict(mail), "at": time.time()}))
        pipe.ltrim(self._key, 0, RECORDED_KEEP - 1)
        pipe.expire(self._key, RECORDED_TTL_SECONDS)
        pipe.execute()


def _recorded_key(merchant_id: int) -> str:
    return f"switchboard:mail:recorded:{merchant_id}"


def recorded_mail(client: redis.Redis, merchant_id: int) -> list[RecordedMail]:
    """The merchant's recorded mails, newest first."""
    rows = client.lrange(_recorded_key(merchant_id), 0, RECORDED_KEEP - 1)
    return [RecordedMail(**json.loads(row)) for row in rows]


def mailer(merchant_id: int) -> Mailer:
    settings = get_settings()
    return SmtpMailer(settings) if settings.smtp_host else RecordingMailer(merchant_id)


def send_mail(mail: Mail, *, merchant_id: int) -> None:
    """Send `mail` on behalf of the merchant: SMTP when configured, else recorded for them."""
    chosen = mailer(merchant_id)
    chosen.send(mail)
    # never the address, the subject or the body: they carry the code
    log.info("mail.sent", merchant_id=merchant_id, mailer=type(chosen).__name__)
