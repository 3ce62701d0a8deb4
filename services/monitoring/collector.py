"""Gauges read when /metrics is scraped: the current state, from PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from observability.logs import get_logger
from persistence.db import session_scope
from persistence.models import Conversation, Notification, NotificationStatus
from services.ingest import inbox
from services.monitoring.health import queue_depths

log = get_logger(__name__)


class StateCollector(Collector):
    def __init__(self, redis_client: Callable[[], redis.Redis], open_bursts: Callable[[], int]):
        self._redis = redis_client
        self._open_bursts = open_bursts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._database()
        yield from self._inbox()
        yield from self._redis_state()

    def _inbox(self) -> Iterator[GaugeMetricFamily]:
        try:
            waiting = inbox.backlog()
        except psycopg.Error as exc:
            log.warning("metrics.database_unavailable", error=type(exc).__name__)
            return
        yield GaugeMetricFamily(
            "switchboard_webhook_inbox_waiting",
            "Webhook bodies answered 200 and not yet handled by a drainer",
            value=waiting.waiting,
        )
        yield GaugeMetricFamily(
            "switchboard_webhook_inbox_oldest_seconds",
            "How long the oldest waiting webhook body has waited (0: none waits)",
            value=waiting.oldest_seconds,
        )
        yield GaugeMetricFamily(
            "switchboard_webhook_inbox_parked",
            "Webhook bodies a drainer could not handle, kept for a person",
            value=waiting.parked,
        )

    def _database(self) -> Iterator[GaugeMetricFamily]:
        try:
            with session_scope() as session:
                session.execute(text("SET LOCAL statement_timeout = 2000"))
                modes = session.execute(
                    select(Conversation.mode, Conversation.needs_human, func.count()).group_by(
                        Conversation.mode, Conversation.needs_human
                    )
                ).all()
                open_notifications = session.execute(
                    select(Notification.type, func.count())
                    .where(Notification.status == NotificationStatus.REQUESTED)
                    .group_by(Notification.type)
                ).all()
        except SQLAlchemyError as exc:
            log.warning("metrics.database_unavailable", error=type(exc).__name__)
            return
        by_mode = GaugeMetricFamily(
            "switchboard_conversations", "Conversations by mode", labels=["mode"]
        )
        counts: dict[str, int] = {}
        waiting = 0
        for mode, needs_human, count in modes:
            counts[str(mode)] = counts.get(str(mode), 0) + count
            waiting += count if needs_human else 0
        for label in ("ai", "operator"):
            by_mode.add_metric([label], counts.get(label, 0))
        yield by_mode
        yield GaugeMetricFamily(
            "switchboard_conversations_needing_human",
            "Conversations flagged for a person and not yet taken over or handled",
            value=waiting,
        )
        escalations = GaugeMetricFamily(
            "switchboard_escalations_open", "Notifications waiting for an answer", labels=["type"]
        )
        for type_, count in open_notifications:
            escalations.add_metric([type_], count)
        yield escalations

    def _redis_state(self) -> Iterator[GaugeMetricFamily]:
        try:
            depths = queue_depths(self._redis())
            bursts = self._open_bursts()
        except redis.RedisError as exc:
            log.warning("metrics.redis_unavailable", error=type(exc).__name__)
            return
        queues = GaugeMetricFamily(
            "switchboard_queue_depth", "Celery tasks waiting per queue", labels=["queue"]
        )
        for queue, depth in depths.items():
            queues.add_metric([queue], depth)
        yield queues
        yield GaugeMetricFamily(
            "switchboard_buffer_open_bursts",
            "Conversations whose burst buffer is collecting messages",
            value=bursts,
        )
