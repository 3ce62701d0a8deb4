"""Outbox tasks: reconciling sends that never got a status, sending released messages."""

from sqlalchemy.exc import OperationalError

from services.delivery.flows import reconcile as reconcile_send
from services.parking.flows import send_released as send_parked
from tasks import app


@app.task(
    name="switchboard.delivery.reconcile",
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    max_retries=5,
)
def reconcile(message_id: int) -> str:
    return str(reconcile_send(message_id))


@app.task(
    name="switchboard.delivery.send_released",
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    max_retries=5,
)
def send_released(conversation_id: int) -> int:
    """The customer wrote: the messages parked while their window was closed go out."""
    return send_parked(conversation_id)
