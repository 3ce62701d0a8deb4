"""Outbox reconciliation: sends that never got a status."""

from sqlalchemy.exc import OperationalError

from services.delivery.flows import reconcile as reconcile_send
from tasks import app


@app.task(
    name="switchboard.delivery.reconcile",
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    max_retries=5,
)
def reconcile(message_id: int) -> str:
    return str(reconcile_send(message_id))
