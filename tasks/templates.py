"""Template tasks: import the business account's templates when Meta tells of one we lack."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from observability.logs import get_logger
from persistence.db import session_scope
from services.templates.sync import TemplateSubmissionFailed, sync_templates
from tasks import app

log = get_logger(__name__)


@app.task(
    name="switchboard.templates.sync",
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    max_retries=5,
)
def sync(merchant_id: int) -> int:
    try:
        with session_scope() as session:
            return len(sync_templates(session, merchant_id=merchant_id))
    except TemplateSubmissionFailed as exc:  # the Graph API refused: the next sync will do
        log.warning("templates.sync.failed", merchant_id=merchant_id, error=str(exc))
        return 0
