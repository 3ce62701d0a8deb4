"""Structured logs: one JSON object per line (LOG_FORMAT=console for people), from our code
through structlog and from libraries through the standard logging module alike.

Context bound with `structlog.contextvars` (task id, conversation id, turn id) is added to
every line logged while it is bound. Values of secret-looking keys are never written.
"""

from __future__ import annotations

import logging
import re
import sys
from functools import lru_cache
from typing import Any

import structlog
from structlog.typing import EventDict

_SECRET_KEY = re.compile(r"token|secret|password|authorization|api_?key|signature", re.I)
# Inside text: query parameters with secret-looking names (uvicorn's access lines carry the
# whole query string: the webhook's hub.verify_token, a media link's sig; the OAuth code
# exchange sends client_secret and code) and bearer tokens.
_SECRET_IN_TEXT = re.compile(
    r"(?P<keep>[?&](?:[^=&\s\"']*(?:token|secret|password|sig|key)[^=&\s\"']*|code)=)"
    r"[^&\s\"']*"
    r"|(?P<scheme>\bbearer\s+)[^\s\"',;]+",
    re.I,
)
_NOISY = ("httpx", "httpcore", "urllib3", "botocore", "google_genai", "openai", "multipart")


def get_logger(name: str) -> Any:
    """A structlog logger; importing this module gives structlog its default setup."""
    return structlog.get_logger(name)


def _key_values(_: Any, __: str, event: EventDict) -> str:
    """`event key=value ...`: the message stdlib handlers see until configure() runs (and
    what tests read from caplog)."""
    message = str(event.pop("event", ""))
    return " ".join([message, *(f"{key}={value}" for key, value in event.items())])


def redact_secrets(_: Any, __: str, event: EventDict) -> EventDict:
    for key, value in event.items():
        event[key] = _redact(key, value)
    return event


def _redact_late_text(_: Any, __: str, event: EventDict) -> EventDict:
    """The text made after redact_secrets ran: a traceback (format_exc_info) and a stack
    (StackInfoRenderer), searched the same way."""
    for key in ("exception", "stack"):
        if key in event:
            event[key] = _redact(key, event[key])
    return event


def _redact(key: object, value: Any) -> Any:
    """A secret-looking key's value hidden; nested mappings and lists (request headers,
    a provider's answer) and text searched the same way."""
    if isinstance(key, str) and _secret_key(key) and value not in (None, ""):
        return "[redacted]"
    if isinstance(value, str):
        # all _SECRET_IN_TEXT finds holds "=" or "bearer", which most text has neither of
        if "=" in value or "bearer" in value.lower():
            return _SECRET_IN_TEXT.sub(_redacted, value)
        return value
    if isinstance(value, dict):
        return {k: _redact(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(None, item) for item in value]
    return value


@lru_cache(maxsize=1024)  # the same few keys on every line
def _secret_key(key: str) -> bool:
    return _SECRET_KEY.search(key) is not None


def _redacted(match: re.Match[str]) -> str:
    return (match.group("keep") or match.group("scheme")) + "[redacted]"


def _shared() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.PositionalArgumentsFormatter(),
        redact_secrets,
        structlog.processors.StackInfoRenderer(),
    ]


def _default() -> None:
    """Through the standard logging module, as plain `event key=value` messages."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.PositionalArgumentsFormatter(),
            redact_secrets,
            _key_values,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


_default()


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Route every log line through one renderer on stderr. Safe to call again."""
    shared = _shared()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact_late_text,  # the rest was redacted in `shared` already
            renderer,
        ],
    )
    # Nothing we render reads a record's caller, thread or process: skip finding them on
    # every line (the logging HOWTO's "Optimization")
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    logging.captureWarnings(True)  # Python warnings become log records too
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # Request lines of HTTP clients carry URLs (and tokens, for some APIs): WARNING and up.
    for name in _NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "celery"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # uvicorn logs every request when this logger has a handler anywhere; the API's access
    # lines are api.access's (every refusal and error, a sample of the rest)
    access = logging.getLogger("uvicorn.access")
    access.handlers, access.propagate = [], False


class _RedactRequestLines(logging.Filter):
    """httpx logs each request's URL at INFO, before any formatter runs (and whatever level
    a test or a debugging session sets): its query's secrets are hidden here already."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = _SECRET_IN_TEXT.sub(_redacted, record.getMessage()), ()
        return True


logging.getLogger("httpx").addFilter(_RedactRequestLines())
