"""The Celery app (`celery -A tasks worker|beat|flower`) and its thin tasks."""

from celery import Celery

app = Celery("switchboard")
app.config_from_object("celeryconfig")

from tasks import delivery, events, handoff, housekeeping, media, status, turn  # noqa: E402,F401
