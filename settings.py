"""The one settings object. Every other module reads configuration from here."""

import ipaddress
import json
import os
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# LangGraph reads this at import time: only known types may be revived from checkpoints.
os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")

LLMProvider = Literal["gemini", "openai"]
AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")
BROKER_SCHEMES = ("redis", "rediss", "unix", *AMQP_SCHEMES)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Storage and processes
    database_url: str | None = None
    redis_url: str | None = None
    # Celery's broker; unset: REDIS_URL. amqp://... runs the queues on RabbitMQ while the
    # buffer, cache and locks stay in Redis.
    celery_broker_url: str | None = None
    data_dir: Path = Path("./.data")
    host: str = "127.0.0.1"
    port: int = 5000
    # API processes run_server.py starts (unset: the number of cores)
    web_concurrency: int | None = None
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    # the share of successful HTTP requests (status below 400) that get an access line;
    # refusals and errors always do (api.access)
    access_log_sample_rate: float = Field(default=0.01, ge=0, le=1)
    # /health says "starting" (not "degraded") this long after the API starts, until the
    # first worker answers
    startup_grace_seconds: float = 60.0
    # /metrics and /stats need this bearer token or an operator's, except on a local server
    # (see metrics_open_locally)
    metrics_token: SecretStr | None = None
    # reverse proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; every other peer is the client itself
    trusted_proxies: str = ""
    # every request body; only media uploads may be larger, once their sender is known
    request_max_body_bytes: int = 1_000_000
    # a Celery worker serves its processes' metrics on this port (when the API cannot read
    # PROMETHEUS_MULTIPROC_DIR, e.g. on another host)
    worker_metrics_port: int | None = None

    # Credentials
    admin_api_token: SecretStr | None = None
    # Operator and admin APIs (/api/v1): requests a minute per token, and wrong tokens a
    # minute per client address before it is refused altogether (also at the console
    # login). 0 switches a rule off.
    api_rate_limit_per_minute: int = 600
    auth_failures_per_minute: int = 20
    whatsapp_app_secret: SecretStr | None = None
    verify_token: SecretStr | None = None
    # Fernet key(s), comma-separated, that encrypt provider credentials at rest: the first
    # encrypts, all decrypt (rotation). Unset: run_server.py's embedded setup keeps one in
    # DATA_DIR/secrets-key; with DATABASE_URL and REDIS_URL set, a start without it is refused.
    secrets_key: SecretStr | None = None

    # The default merchant's WhatsApp number, created at start when set
    whatsapp_access_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_display_phone_number: str | None = None
    # the business account owning that number and its message templates
    whatsapp_business_account_id: str | None = None
    merchant_name: str = "Default merchant"

    # Meta app for self-serve onboarding (Embedded Signup in the console): the app id and the
    # Embedded Signup configuration id show the "Connect WhatsApp" button; the app secret
    # exchanges the code it returns for the business's token
    meta_app_id: str | None = None
    meta_app_secret: SecretStr | None = None
    meta_embedded_signup_config_id: str | None = None

    # Graph API
    whatsapp_api_base_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v23.0"
    whatsapp_timeout_seconds: float = 10.0
    # Instagram Direct: webhooks signed with the Meta app's secret (unset: WHATSAPP_APP_SECRET,
    # the same app usually serves both), sends through the Instagram API
    instagram_app_secret: SecretStr | None = None
    instagram_api_base_url: str = "https://graph.instagram.com"
    instagram_api_version: str = "v23.0"

    # Twilio WhatsApp (channel accounts of type twilio_whatsapp)
    twilio_api_base_url: str = "https://api.twilio.com"
    # the address Twilio calls us at (behind a proxy it differs from the request's own):
    # X-Twilio-Signature is computed over this + the path; unset, the request URL is used
    public_base_url: str | None = None

    # LLM
    llm_provider: LLMProvider = "gemini"
    llm_fallback_provider: LLMProvider | None = None
    llm_max_retries: int = 2
    llm_timeout_seconds: float = 20.0  # one attempt; within a turn, never past its deadline
    # thinking tokens a model may spend before answering: -1 each model's default, 0 as
    # little as it allows (Gemini 2.5/3 levels and OpenAI reasoning efforts: graph.thinking)
    llm_thinking_budget: int = 0
    # /health asks each provider for its model at most this often (no generation, no tokens)
    llm_check_seconds: float = 300.0
    google_api_key: SecretStr | None = None
    gemini_model: str = "gemini-2.5-flash"
    gemini_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4.1-mini"
    openai_base_url: str | None = None
    openai_transcription_model: str = "gpt-4o-mini-transcribe"
    # small, cheap models for side jobs: localizing staff answers, routing support requests
    gemini_light_model: str = "gemini-2.5-flash-lite"
    openai_light_model: str = "gpt-4.1-mini"
    # a knowledge search that finds nothing good asks the light model to translate the
    # query into the documents' languages; it waits this long for the answer, then goes on
    knowledge_translation_timeout_seconds: float = 4.0

    # Buffer and turns
    buffer_seconds: float = 15.0
    buffer_max_seconds: float = 60.0
    sweeper_interval_seconds: float = 30.0
    send_reconcile_seconds: float = 120.0
    # a redone turn whose reply part was in flight when its worker died waits this long for
    # WhatsApp's status webhook before resending it (holding the conversation: order holds)
    send_status_grace_seconds: float = 10.0
    # a turn still running after this is cut: a person is flagged, the customer told once
    task_soft_time_limit_seconds: float = 600.0
    task_time_limit_seconds: float = 660.0  # then the worker process is killed
    # a turn asks no model after this long from its start (retries and the fallback
    # included): it fails over to a person with the holding message (0: no deadline)
    turn_deadline_seconds: float = 45.0
    context_max_tokens: int = 6000
    # the prompt asks for replies within this many characters (unless the customer asks for
    # detail); longer ones are counted and logged, and sent whole (0: no budget)
    reply_max_chars: int = 700
    history_max_messages: int = 200

    # Webhook
    webhook_max_body_bytes: int = 1_000_000
    # older messages (WhatsApp's timestamp) are stored but never answered: a replayed or
    # long-delayed delivery; 0 answers every age
    webhook_max_message_age_seconds: float = 7 * 24 * 3600.0
    # POST /webhook commits the body to an inbox and answers; drainers (one at a time per
    # shard, a conversation always in the same shard) process it. A beat pass drains what
    # has waited this long (a lost trigger or task, a killed drainer)
    inbox_shards: int = Field(default=16, ge=1, le=1024)
    inbox_sweep_seconds: float = 2.0

    # Media
    # Hosts inbound media are downloaded from (with the access token): https only, Meta's
    # media hosts by default. "http://<loopback host>[:port]" entries allow a simulator
    # (tests, benchmarks); the sandbox's own fake is allowed while the sandbox is active.
    whatsapp_media_hosts: str = "lookaside.fbsbx.com,*.fbcdn.net,*.whatsapp.net"
    media_storage: Literal["local", "s3"] = "local"
    media_max_bytes: int = 100_000_000
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    media_link_base_url: str | None = None
    # signs library links sent when an upload fails; unset: no links (run_server.py keeps
    # one in DATA_DIR in its embedded setup). Never derived from the webhook secret.
    media_link_secret: SecretStr | None = None

    # Human handoff
    handoff_pauses_ai: bool = True
    handoff_unclaimed_seconds: float = 300.0
    operator_idle_seconds: float = 1800.0
    events_webhook_url: str | None = None
    events_webhook_secret: SecretStr | None = None
    events_max_attempts: int = 10

    # The desk (services.desk). AUTO_RESOLVE_HOURS: a conversation nobody needs a person for
    # is resolved after this long without a customer message; 24 matches WhatsApp's service
    # window, after which only a template can reach the customer anyway. 0 disables.
    auto_resolve_hours: float = Field(default=24.0, ge=0)
    # manual, or round_robin: a conversation that needs a person goes to the online operator
    # assigned least recently
    assignment: Literal["manual", "round_robin"] = "manual"
    # an operator is online while a console page reported in this recently
    operator_online_seconds: float = Field(default=90.0, gt=0)
    # after this long without presence, an operator's waiting conversations return to the queue
    operator_offline_seconds: float = Field(default=600.0, gt=0)
    # Business hours (services.hours). FROZEN_TIME: an ISO instant every process takes as
    # "now" for business-hours decisions (the escalation promise, SLA and handoff timers,
    # the away message), so end-to-end tests and demos can stand at a chosen moment.
    frozen_time: datetime | None = None
    # beat checks notification SLAs this often
    sla_check_seconds: float = Field(default=60.0, gt=0)

    @field_validator("frozen_time")
    @classmethod
    def _frozen_time_is_aware(cls, value: datetime | None) -> datetime | None:
        """A FROZEN_TIME without an offset is UTC."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    # Shopify (services/commerce): Admin API version, the app's secret that signs its
    # webhooks, and the API root (unset: https://{shop_domain}; tests point it at a fake)
    shopify_api_version: str = "2025-10"
    shopify_api_secret: SecretStr | None = None
    shopify_api_base_url: str | None = None
    shopify_timeout_seconds: float = 20.0
    # a full sync of a catalog with more products than this runs as a bulk operation
    shopify_bulk_threshold: int = 5000
    # every this often a full sync catches what webhooks missed; 0: never
    shopify_reconcile_seconds: float = 21600.0

    # Order lookups (services/commerce/orders.py): one-time codes mailed to an order's
    # email. SMTP_HOST unset: mails are recorded in Redis (the sandbox shows them).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Switchboard <no-reply@localhost>"
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = 20.0
    order_code_minutes: float = Field(default=10.0, gt=0)
    order_code_attempts: int = Field(default=5, ge=1)

    # CSAT (services.csat): a resolved conversation's customer gets a 1-5 survey, at most
    # once per conversation per CSAT_COOLDOWN_DAYS; a comment is taken for CSAT_COMMENT_MINUTES
    csat_enabled: bool = True
    csat_cooldown_days: float = Field(default=7.0, ge=0)
    csat_comment_minutes: float = Field(default=30.0, ge=0)

    # Operator console (/console): how long a login lasts
    console_session_hours: float = 12.0
    # WhatsApp sandbox (/sandbox): off unless set; run_server.py sets it in its embedded setup.
    # It only ever runs against its own fake Graph API (see sandbox_active).
    sandbox_enabled: bool | None = None

    # run_server.py --flower: Flower's port, and its "user:password" (several, comma-separated;
    # unset: generated into DATA_DIR/flower-auth). Flower itself reads both names too.
    flower_port: int = 5555
    flower_basic_auth: SecretStr | None = None

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        for item in _items(value):
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value

    @field_validator("celery_broker_url")
    @classmethod
    def _broker_is_known(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in BROKER_SCHEMES:
            raise ValueError(
                f"CELERY_BROKER_URL must start with one of {', '.join(BROKER_SCHEMES)}"
            )
        return value or None

    @property
    def broker_url(self) -> str | None:
        """Celery's broker: CELERY_BROKER_URL, else REDIS_URL."""
        return self.celery_broker_url or self.redis_url

    @property
    def broker_is_amqp(self) -> bool:
        return urlsplit(self.broker_url or "").scheme in AMQP_SCHEMES

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _items(self.trusted_proxies)

    @property
    def metrics_open_locally(self) -> bool:
        """Without METRICS_TOKEN, a server listening on loopback only (the default HOST)
        serves /metrics and /stats to local, unproxied callers without credentials."""
        return self.metrics_token is None and is_loopback(self.host)

    @property
    def sandbox_active(self) -> bool:
        """The sandbox runs only when enabled AND every Graph API call goes to its own fake
        AND nothing says this is a real deployment (see sandbox_refusals): with a real Graph
        API URL configured it stays off, whatever SANDBOX_ENABLED says."""
        return (
            bool(self.sandbox_enabled)
            and is_sandbox_graph_url(self.whatsapp_api_base_url)
            and not self.sandbox_refusals
        )

    @property
    def sandbox_shopify_url(self) -> str | None:
        """The demo store's API root (beside the sandbox's Graph API), while it is active."""
        if not self.sandbox_active:
            return None
        parts = urlsplit(self.whatsapp_api_base_url)
        return f"{parts.scheme}://{parts.netloc}{SANDBOX_SHOPIFY_PATH}"

    def sandbox_url(self, path: str) -> str | None:
        """One of the sandbox's fakes (beside its Graph API), while it is active."""
        if not self.sandbox_active:
            return None
        parts = urlsplit(self.whatsapp_api_base_url)
        return f"{parts.scheme}://{parts.netloc}{path}"

    @property
    def sandbox_refusals(self) -> list[str]:
        """Why this looks like a real deployment, where the sandbox must never run (its fake
        Graph API would swallow every merchant's replies): servers of its own, a real
        WhatsApp token, or a server others can reach."""
        reasons = [
            f"{name} points at another machine ({host})"
            for name, url in (
                ("DATABASE_URL", self.database_url),
                ("REDIS_URL", self.redis_url),
                ("CELERY_BROKER_URL", self.celery_broker_url),
            )
            if url and (host := _server_host(url)) and not is_loopback(host)
        ]
        token = self.whatsapp_access_token
        if token is not None and not token.get_secret_value().startswith(SANDBOX_TOKEN_PREFIX):
            reasons.append("WHATSAPP_ACCESS_TOKEN is a real WhatsApp access token")
        if not is_loopback(self.host):
            reasons.append(f"HOST={self.host} is reachable from other machines")
        return reasons

    @field_validator("whatsapp_media_hosts")
    @classmethod
    def _media_hosts_are_safe(cls, value: str) -> str:
        for entry in _items(value):
            scheme, _, host = entry.rpartition("://")
            name = urlsplit(f"//{host}").hostname or ""
            if scheme not in ("", "https", "http") or not name or "*" in name.lstrip("*."):
                raise ValueError(f"WHATSAPP_MEDIA_HOSTS: {entry!r} is not a host or *.domain")
            if scheme == "http" and not is_loopback(name):
                raise ValueError(f"WHATSAPP_MEDIA_HOSTS: {entry!r}: plain http only to loopback")
        return value

    @property
    def media_download_hosts(self) -> tuple[str, ...]:
        """WHATSAPP_MEDIA_HOSTS, plus the sandbox's own fake Graph API while it runs."""
        hosts = _items(self.whatsapp_media_hosts)
        if self.sandbox_active:
            parts = urlsplit(self.whatsapp_api_base_url)
            hosts.append(f"{parts.scheme}://{parts.netloc}")
        return tuple(hosts)

    @property
    def embedded_signup_enabled(self) -> bool:
        return bool(self.meta_app_id and self.meta_embedded_signup_config_id)

    @property
    def whatsapp_api_root(self) -> str:
        return f"{self.whatsapp_api_base_url.rstrip('/')}/{self.whatsapp_api_version}"

    @property
    def instagram_api_root(self) -> str:
        return f"{self.instagram_api_base_url.rstrip('/')}/{self.instagram_api_version}"

    @property
    def instagram_webhook_secret(self) -> SecretStr | None:
        return self.instagram_app_secret or self.whatsapp_app_secret


SANDBOX_GRAPH_PATH = "/sandbox/graph"
# The sandbox's demo Shopify store: a fake store served by the app at this path (only while
# the sandbox is active), connected to the sandbox merchant under this domain.
SANDBOX_SHOPIFY_PATH = "/sandbox/shopify"
SANDBOX_SHOP_DOMAIN = "sandbox-running-co.myshopify.com"
# The sandbox's fakes of Twilio's Messages API and Instagram's Send API, for its own accounts
SANDBOX_TWILIO_PATH = "/sandbox/twilio"
SANDBOX_INSTAGRAM_PATH = "/sandbox/instagram"
# The sandbox's own business number has a made-up token with this prefix.
SANDBOX_TOKEN_PREFIX = "sandbox-"


def _server_host(url: str) -> str | None:
    """The host a database or Redis URL connects to (libpq's ?host= wins over the netloc)."""
    parts = urlsplit(url)
    host = parse_qs(parts.query).get("host", [parts.hostname or ""])[0]
    return None if not host or host.startswith("/") else host  # "/...": a Unix socket


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def is_loopback(host: str | None) -> bool:
    """Whether an address (or a HOST setting) is this machine's loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def is_sandbox_graph_url(url: str) -> bool:
    """Whether a Graph API base URL is the sandbox's in-app fake on this machine."""
    parts = urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    return local and parts.path.rstrip("/") == SANDBOX_GRAPH_PATH


# Where a running `run_server.py` wrote its embedded servers' URLs (persistence/embedded.py)
RUNTIME_FILE = "runtime.json"


def running_system(data_dir: Path) -> dict[str, object] | None:
    """The runtime file in `data_dir` if the run_server.py that wrote it still runs."""
    try:
        runtime = json.loads((data_dir / RUNTIME_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(runtime, dict) or not _alive(runtime.get("pid"), runtime.get("started")):
        return None  # left by a server that died without cleaning up
    return runtime


def _alive(pid: object, started: object) -> bool:
    import psutil  # only when a runtime file is there

    try:
        process = psutil.Process(pid) if isinstance(pid, int) else None
        # the same pid, but another process: the server died and the pid was reused
        return process is not None and process.create_time() == started
    except psutil.Error:
        return False


def _with_running_system(settings: Settings) -> Settings:
    """DATABASE_URL and REDIS_URL, when unset, are those of the system that run_server.py
    runs from DATA_DIR, if it runs: the shell tools find it without being told."""
    if settings.database_url and settings.redis_url:
        return settings
    runtime = running_system(settings.data_dir) or {}
    found = {
        name: runtime[name]
        for name in ("database_url", "redis_url")
        if not getattr(settings, name) and isinstance(runtime.get(name), str)
    }
    return settings.model_copy(update=found) if found else settings


@lru_cache
def get_settings() -> Settings:
    return _with_running_system(Settings())
