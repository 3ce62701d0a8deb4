"""CSAT: sending the survey and its thank-you after the transaction that queued them."""

from sqlalchemy.exc import OperationalError

from services.delivery.flows import send_pending
from tasks import app


@app.task(
    name="switchboard.csat.send",
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    max_retries=5,
)
def send(message_id: int) -> str:
    return str(send_pending(message_id, only_in_ai_mode=False))
