"""Commerce tasks: a store's full sync, the periodic reconcile that catches what webhooks
missed, and order updates to customers."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from persistence.db import session_scope
from services.commerce.order_updates import notify
from services.commerce.reconcile import schedule_reconcile
from services.commerce.sync import full_sync
from services.delivery.flows import send_pending
from tasks import app


@app.task(name="switchboard.commerce.sync")
def sync(merchant_id: int) -> str:
    return full_sync(merchant_id)


@app.task(name="switchboard.commerce.reconcile")
def reconcile() -> int:
    with session_scope() as session:
        return schedule_reconcile(session)


@app.task(name="switchboard.commerce.order_update", autoretry_for=(OperationalError,),
          retry_backoff=1, max_retries=5)  # fmt: skip
def order_update(event_id: int) -> str:
    with session_scope() as session:
        return notify(session, event_id)


@app.task(name="switchboard.commerce.order_update.send", autoretry_for=(OperationalError,),
          retry_backoff=1, max_retries=5)  # fmt: skip
def send_order_update(message_id: int) -> str:
    return str(send_pending(message_id, only_in_ai_mode=False))
