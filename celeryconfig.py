"""Celery configuration, read from the one settings object."""

from kombu import Queue

from settings import get_settings

_settings = get_settings()

broker_url = _settings.broker_url  # CELERY_BROKER_URL, else REDIS_URL
broker_connection_retry_on_startup = True
broker_connection_timeout = 2
if _settings.broker_is_amqp:
    # RabbitMQ: a publish returns once the broker has the message (publisher confirms).
    # Unacked messages (acks_late turns, and countdown tasks the worker holds until their
    # time) go back to the queue when a worker's connection drops, so a killed worker's work
    # is redone elsewhere; both must finish inside RabbitMQ's consumer_timeout (30 min by
    # default, far above BUFFER_MAX_SECONDS and task_time_limit).
    broker_transport_options: dict[str, object] = {"confirm_publish": True}
    # A lost connection cancels the running tasks rather than letting them finish beside
    # the copy RabbitMQ hands to another worker.
    worker_cancel_long_running_tasks_on_connection_loss = True
else:
    # Redis: longer than any countdown we schedule and any turn we run, or tasks run twice.
    broker_transport_options = {
        "visibility_timeout": 3600,
        "socket_timeout": 5,
        "socket_connect_timeout": 2,
    }
task_publish_retry_policy = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
task_ignore_result = True
result_backend = None

task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
# Flower sees tasks from the workers' events; a "sent" event from every publisher would cost
# an extra Redis publish per task on the webhook's path (measured: scripts/bench.py ingest).
task_send_sent_event = False
worker_send_task_events = True
task_track_started = True

task_default_queue = "default"
# Durable classic queues on RabbitMQ (kombu's default); the same names as Redis lists.
task_queues = tuple(
    Queue(name, durable=True) for name in ("default", "messages", "state", "status")
)
task_routes = {
    "switchboard.turn.*": {"queue": "messages"},
    # deferred ingest: every worker consumes `messages`
    "switchboard.ingest.*": {"queue": "messages"},
    "switchboard.status.*": {"queue": "status"},
    "switchboard.housekeeping.*": {"queue": "state"},
    "switchboard.csat.*": {"queue": "default"},
    "switchboard.delivery.*": {"queue": "default"},
    "switchboard.events.*": {"queue": "default"},
    "switchboard.media.*": {"queue": "default"},
    "switchboard.notifications.*": {"queue": "default"},
    "switchboard.templates.*": {"queue": "default"},
    "switchboard.commerce.*": {"queue": "default"},
    "switchboard.instagram.*": {"queue": "default"},
}

# A turn may wait on several LLM attempts and providers; a stuck one is cut and redone.
task_soft_time_limit = _settings.task_soft_time_limit_seconds
task_time_limit = _settings.task_time_limit_seconds

beat_schedule = {
    "sweep-unanswered": {
        "task": "switchboard.housekeeping.sweep",
        "schedule": _settings.sweeper_interval_seconds,
    },
    "inbox-sweep": {
        "task": "switchboard.ingest.sweep",
        "schedule": _settings.inbox_sweep_seconds,
    },
    "handoff-timers": {
        "task": "switchboard.housekeeping.handoff_timers",
        "schedule": _settings.sweeper_interval_seconds,
    },
    "desk-timers": {
        "task": "switchboard.housekeeping.desk_timers",
        "schedule": _settings.sweeper_interval_seconds,
    },
    "notification-slas": {
        "task": "switchboard.notifications.sla_check",
        "schedule": _settings.sla_check_seconds,
    },
}
if _settings.shopify_reconcile_seconds > 0:
    beat_schedule["shopify-reconcile"] = {
        "task": "switchboard.commerce.reconcile",
        # checked often; each store is synced once its last sync is a period old
        "schedule": min(_settings.shopify_reconcile_seconds, 600.0),
    }
beat_schedule_filename = str(_settings.data_dir / "celerybeat-schedule")
