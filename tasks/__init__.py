"""The Celery app (`celery -A tasks worker|beat|flower`) and its thin tasks."""

from celery import Celery

from persistence import jobs

app = Celery("switchboard")
app.config_from_object("celeryconfig")
jobs.use_app(app)  # work scheduled after commit goes out through the worker's own app

from tasks import (  # noqa: E402,F401
    commerce,
    csat,
    delivery,
    desk,
    events,
    handoff,
    housekeeping,
    ingest,
    instagram,
    media,
    notifications,
    signals,
    status,
    templates,
    turn,
)
