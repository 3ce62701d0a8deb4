"""Commerce tasks: a store's full sync, and the periodic reconcile that catches what
webhooks missed."""

from __future__ import annotations

from persistence.db import session_scope
from services.commerce.reconcile import schedule_reconcile
from services.commerce.sync import full_sync
from tasks import app


@app.task(name="switchboard.commerce.sync")
def sync(merchant_id: int) -> str:
    return full_sync(merchant_id)


@app.task(name="switchboard.commerce.reconcile")
def reconcile() -> int:
    with session_scope() as session:
        return schedule_reconcile(session)
