"""Worker-wide wiring: our JSON logs instead of Celery's, the task id on every log line,
and (optionally) a metrics endpoint for this worker's processes."""

from __future__ import annotations

from typing import Any

import structlog
from celery.signals import celeryd_init, setup_logging, task_postrun, task_prerun, worker_init

from observability.logs import configure
from settings import get_settings


@celeryd_init.connect  # early: Celery's own start-up warnings are JSON lines too
@setup_logging.connect
def _logs(**_: Any) -> None:
    settings = get_settings()
    configure(settings.log_level, settings.log_format)


@task_prerun.connect
def _bind_task(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task_id=task_id, task=getattr(task, "name", None))


@task_postrun.connect
def _unbind_task(**_: Any) -> None:
    structlog.contextvars.clear_contextvars()


@worker_init.connect
def _metrics_port(**_: Any) -> None:
    """WORKER_METRICS_PORT: serve what this worker's processes recorded (multiprocess mode),
    for a Prometheus that cannot reach the API's PROMETHEUS_MULTIPROC_DIR."""
    port = get_settings().worker_metrics_port
    if port is None:
        return
    from prometheus_client import start_http_server

    from observability.metrics import process_registry

    start_http_server(port, registry=process_registry())
