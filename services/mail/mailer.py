"""The pluggable mailer: `send_mail` picks SMTP (SMTP_HOST set) or the recording mailer."""

from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from typing import Protocol

from observability.logs import get_logger
from persistence.buffer import process_buffer
from settings import Settings, get_settings

log = get_logger(__name__)
RECORDED_KEY = "switchboard:mail:recorded"
RECORDED_KEEP = 50


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


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
    """Keeps the mail in Redis (the newest RECORDED_KEEP): the sandbox shows them."""

    def send(self, mail: Mail) -> None:
        client = process_buffer().client
        client.lpush(RECORDED_KEY, json.dumps(asdict(mail)))
        client.ltrim(RECORDED_KEY, 0, RECORDED_KEEP - 1)


def recorded_mail() -> list[Mail]:
    """The recorded mails, newest first."""
    rows = process_buffer().client.lrange(RECORDED_KEY, 0, RECORDED_KEEP - 1)
    return [Mail(**json.loads(row)) for row in rows]


def mailer() -> Mailer:
    settings = get_settings()
    return SmtpMailer(settings) if settings.smtp_host else RecordingMailer()


def send_mail(mail: Mail) -> None:
    mailer().send(mail)
    log.info("mail.sent", subject=mail.subject)  # never the address or the body (a code)
