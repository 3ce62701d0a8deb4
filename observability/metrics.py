"""Prometheus metrics. Every process records its own; with PROMETHEUS_MULTIPROC_DIR set
(run_server.py sets it) the API's /metrics adds up the API and all Celery worker processes.

Counters and histograms only: they add up across processes. Figures that describe the
current state (conversations by mode, buffer depth, queue depths, open escalations) are
read from PostgreSQL and Redis when /metrics is scraped (services.monitoring.collector).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    Summary,
    generate_latest,
    multiprocess,
)

_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)

WEBHOOK_REQUESTS = Counter(
    "switchboard_webhook_requests_total",
    "POST /webhook requests by outcome (accepted, bad_signature, invalid, too_large, db_down)",
    ["outcome"],
)
WEBHOOK_INBOX_PARKED = Counter(
    "switchboard_webhook_inbox_parked_total",
    "Inbox rows a drainer could not handle, kept for a person (unparseable, failed)",
    ["reason"],
)
WEBHOOK_MESSAGES = Counter(
    "switchboard_webhook_messages_total",
    "Inbound WhatsApp messages by type and outcome (stored, stale, duplicate, unknown_number, "
    "no_sender)",
    ["type", "outcome"],
)
BURST_MESSAGES = Histogram(
    "switchboard_burst_messages",
    "Inbound messages answered together by one turn",
    buckets=(1, 2, 3, 5, 8, 13, 21, 50),
)
TURNS = Histogram(
    "switchboard_turn_duration_seconds",
    "Turns by outcome (replied, silent, needs_human, no_reply, unsent, busy, idle), from "
    "taking the conversation lock to the last send",
    ["outcome"],
    buckets=_SECONDS,
)
REPLY_CHARACTERS = Histogram(
    "switchboard_reply_characters",
    "Length of the AI's replies as sent (WhatsApp formatting), by role (customer, admin)",
    ["role"],
    buckets=(100, 200, 400, 700, 1000, 1500, 2500, 4096, 8192),
)
REPLIES_OVER_BUDGET = Counter(
    "switchboard_replies_over_budget_total",
    "AI replies longer than REPLY_MAX_CHARS, by role (customer, admin)",
    ["role"],
)
LLM_CALLS = Counter(
    "switchboard_llm_calls_total",
    "LLM requests by provider, model and outcome (ok, error)",
    ["provider", "model", "outcome"],
)
LLM_LATENCY = Histogram(
    "switchboard_llm_latency_seconds",
    "LLM request latency",
    ["provider", "model"],
    buckets=_SECONDS,
)
LLM_TOKENS = Counter(
    "switchboard_llm_tokens_total",
    "LLM tokens by provider, model and direction (input, output)",
    ["provider", "model", "direction"],
)
LLM_ERRORS = Counter(
    "switchboard_llm_errors_total",
    "Failed LLM requests by provider, model and error class",
    ["provider", "model", "error"],
)
SENDS = Counter(
    "switchboard_whatsapp_sends_total",
    "Outbound sends to the Graph API by outcome (accepted, failed, unknown, dropped) and "
    "WhatsApp error code",
    ["outcome", "error_code"],
)
MESSAGES_SENT = Counter(
    "switchboard_messages_sent_total",
    "Messages WhatsApp accepted, by author: ai (model-written), auto_answer (knowledge base, "
    "no model), holding (no model, nothing sure to say), operator (people), system (notices)",
    ["author"],
)
ESCALATIONS_OPENED = Counter(
    "switchboard_escalations_opened_total",
    "Escalations opened: notifications by type, and conversations flagged needs_human",
    ["type"],
)
ESCALATIONS_ANSWERED = Counter(
    "switchboard_escalations_answered_total", "Notifications answered, by type", ["type"]
)
KNOWLEDGE_DRAFTS = Counter(
    "switchboard_knowledge_drafts_total",
    "Staff answers considered for the knowledge base, by outcome (drafted, not_reusable, "
    "personal_data, no_model, failed)",
    ["outcome"],
)
MEDIA_FETCHES = Counter(
    "switchboard_media_fetches_total",
    "Inbound media fetches by outcome (stored, retry, refused, refused_host: a media URL "
    "off WHATSAPP_MEDIA_HOSTS, never requested)",
    ["outcome"],
)
ESCALATION_ANSWER_SECONDS = Histogram(
    "switchboard_escalation_answer_seconds",
    "Time from a notification's request to its answer",
    ["type"],
    buckets=(30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 72 * 3600),
)


# HTTP requests (api.access), under the names and labels prometheus-fastapi-instrumentator
# gave them, which dashboards already use. `handler` is the route template, "none" when no
# route took the request.
HTTP_REQUESTS = Counter(
    "http_requests_total",
    "Total number of requests by method, status and handler.",
    ["method", "status", "handler"],
)
HTTP_REQUEST_SIZE = Summary(
    "http_request_size_bytes",
    "Content length of incoming requests by handler (the header's value, else 0).",
    ["handler"],
)
HTTP_RESPONSE_SIZE = Summary(
    "http_response_size_bytes",
    "Content length of outgoing responses by handler (the header's value, else 0).",
    ["handler"],
)
HTTP_LATENCY_FINE = Histogram(
    "http_request_duration_highr_seconds",
    "Latency with many buckets but no API specific labels, for percentiles.",
    buckets=(0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5,
             5, 7.5, 10, 30, 60),
)  # fmt: skip
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Latency with only few buckets by handler.",
    ["method", "handler"],
    buckets=(0.1, 0.5, 1),
)
_HTTP_SERIES_KEPT = 2048
_http_series: dict[tuple[str, str, int], tuple[Any, Any, Any, Any]] = {}


def observe_http(
    method: str, handler: str, status: int, request_bytes: int, response_bytes: int,
    seconds: float,
) -> None:  # fmt: skip
    """Count one HTTP request. Each label combination's series are looked up once and
    kept (a `.labels()` call validates and locks every time)."""
    key = (method, handler, status)
    series = _http_series.get(key)
    if series is None:
        if len(_http_series) >= _HTTP_SERIES_KEPT:  # odd methods and statuses: stay bounded
            _http_series.clear()
        series = _http_series[key] = (
            HTTP_REQUESTS.labels(method, str(status), handler),
            HTTP_REQUEST_SIZE.labels(handler),
            HTTP_RESPONSE_SIZE.labels(handler),
            HTTP_LATENCY.labels(method, handler),
        )
    requests, request_size, response_size, latency = series
    requests.inc()
    request_size.observe(request_bytes)
    response_size.observe(response_bytes)
    HTTP_LATENCY_FINE.observe(seconds)
    latency.observe(seconds)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def process_registry() -> CollectorRegistry:
    """What this deployment's processes recorded: all of them in multiprocess mode."""
    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def exposition(*extra: CollectorRegistry) -> bytes:
    return b"".join(generate_latest(registry) for registry in (process_registry(), *extra))
