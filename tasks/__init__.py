"""The Celery app (`celery -A tasks worker|beat|flower`) and its thin tasks."""

from celery import Celery

app = Celery("switchboard")
app.config_from_object("celeryconfig")

from tasks import (  # noqa: E402,F401
    delivery,
    events,
    handoff,
    housekeeping,
    media,
    notifications,
    signals,
    status,
    turn,
)
