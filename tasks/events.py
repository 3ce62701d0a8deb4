"""Delivery of outgoing conversation events, retried with backoff."""

from services.events.events import EventDeliveryFailed
from services.events.flows import deliver
from tasks import app


@app.task(
    name="switchboard.events.deliver",
    autoretry_for=(EventDeliveryFailed,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def deliver_event(event_id: int) -> bool:
    return deliver(event_id)
