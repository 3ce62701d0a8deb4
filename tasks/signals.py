"""Worker-wide wiring: our JSON logs instead of Celery's, the task id on every log line,
(optionally) a metrics endpoint for this worker's processes, and an exit instead of a wedge
after an unrecoverable error."""

from __future__ import annotations

import logging
import os
import signal
import threading
from functools import partial
from typing import Any

import psutil
import structlog
from celery.apps import worker as celery_worker
from celery.signals import (
    celeryd_init,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_shutting_down,
)
from prometheus_client import start_http_server

from observability.logs import configure, get_logger
from observability.metrics import process_registry
from persistence.crypto import SecretsKeyError, cipher
from settings import get_settings


@celeryd_init.connect  # early: Celery's own start-up warnings are JSON lines too
@setup_logging.connect
def _logs(**_: Any) -> None:
    settings = get_settings()
    configure(settings.log_level, settings.log_format)


log = get_logger(__name__)


@celeryd_init.connect
def _refuse_without_secrets_key(**_: Any) -> None:
    """A worker that cannot read the stored credentials would fail every send: it does not
    start, and says why (SystemExit passes through Celery's signal dispatch)."""
    try:
        cipher()
    except SecretsKeyError as exc:
        log.error("worker.secrets_key", reason=str(exc))
        raise SystemExit(str(exc)) from None


@celeryd_init.connect
def _shutdown_in_json(**_: Any) -> None:
    """Celery writes "worker: Warm shutdown (MainProcess)" straight to stdout when told to
    stop, a line of text among our JSON ones: its signal handlers are installed without that
    message (they run after this), and `_log_shutdown` says it as a log line instead."""
    term = celery_worker.install_worker_term_handler
    interrupt = celery_worker.install_worker_int_handler
    celery_worker.install_worker_term_handler = partial(term, verbose=False)
    celery_worker.install_worker_int_handler = partial(
        interrupt, verbose=False, callback=_second_interrupt_is_cold
    )


def _second_interrupt_is_cold(worker: Any) -> None:
    """Celery's own SIGINT behaviour (a second Ctrl-C stops at once), without its text."""
    celery_worker.install_worker_term_hard_handler(worker, sig="SIGINT", verbose=False)


@worker_shutting_down.connect
def _log_shutdown(sig: str = "", how: str = "", **_: Any) -> None:
    log.info("worker.shutdown", how=how.lower(), signal=sig)


@task_prerun.connect
def _bind_task(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task_id=task_id, task=getattr(task, "name", None))


@task_postrun.connect
def _unbind_task(**_: Any) -> None:
    structlog.contextvars.clear_contextvars()


# After "Unrecoverable error" (kombu's crash when Redis restarts while the worker holds
# unacknowledged tasks) Celery shuts down warm, and with billiard 4.3 the pool processes can
# block for ever writing their exit notice to a parent that no longer reads it: the worker
# then neither works nor exits, and no supervisor starts it again. Give the warm shutdown
# this long (a turn in flight usually ends within it), then end the pool and the worker:
# acks_late redelivers what they held, and the outbox never sends a reply twice. Every
# second here is a second without turns (measured with scripts/soak_faults.py --quick).
UNRECOVERABLE_EXIT_SECONDS = 5.0


class _ExitAfterUnrecoverableError(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.CRITICAL)
        self._armed = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Unrecoverable error") and not self._armed.is_set():
            self._armed.set()
            timer = threading.Timer(UNRECOVERABLE_EXIT_SECONDS, _exit_with_pool)
            timer.daemon = True  # a warm shutdown that completes is not held up
            timer.start()


def _exit_with_pool() -> None:
    for child in psutil.Process().children(recursive=True):
        child.send_signal(signal.SIGKILL)
    os._exit(1)


@worker_init.connect
def _exit_instead_of_wedging(**_: Any) -> None:
    logging.getLogger("celery.worker").addHandler(_ExitAfterUnrecoverableError())


@worker_init.connect
def _metrics_port(**_: Any) -> None:
    """WORKER_METRICS_PORT: serve what this worker's processes recorded (multiprocess mode),
    for a Prometheus that cannot reach the API's PROMETHEUS_MULTIPROC_DIR."""
    port = get_settings().worker_metrics_port
    if port is None:
        return
    start_http_server(port, registry=process_registry())
