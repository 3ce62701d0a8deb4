"""Run Switchboard with one command.

    python run_server.py                # all: embedded PostgreSQL + Redis, API, worker, beat
    python run_server.py --flower       # and Flower (Celery's monitor), behind basic auth
    python run_server.py --only api     # with DATABASE_URL/REDIS_URL set: the API (default)
    python run_server.py --only api,worker,beat

Without DATABASE_URL/REDIS_URL it starts embedded servers under DATA_DIR (kept between
runs) and every process; with them, only what `--only` names (default: the API).
The embedded servers' URLs are in DATA_DIR/runtime.json while it runs, so that
`python scripts/manage.py` and `celery -A tasks ...` started from the same directory find them.
Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from observability.logs import configure as configure_logs
from settings import SANDBOX_GRAPH_PATH, Settings, get_settings, running_system

ROLES = ("api", "worker", "beat", "flower")
log = logging.getLogger("switchboard")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--only",
        help="comma-separated processes to run: api, worker, beat "
        "(default: all three with embedded servers, else api)",
    )
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--flower", action="store_true",
        help="also run Flower on FLOWER_PORT, behind FLOWER_BASIC_AUTH "
        "(default: a password generated into DATA_DIR/flower-auth)",
    )  # fmt: skip
    return parser.parse_args(argv)


def roles_to_run(only: str | None, settings: Settings) -> list[str]:
    if only:
        roles = [r.strip() for r in only.split(",") if r.strip()]
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise SystemExit(f"unknown process(es): {', '.join(unknown)}; choose from {ROLES}")
        return roles
    embedded = not settings.database_url or not settings.redis_url
    return ["api", "worker", "beat"] if embedded else ["api"]


def refuse_a_second_start(settings: Settings) -> None:
    """Two run_server.py on one DATA_DIR would share its servers' files."""
    if settings.database_url and settings.redis_url:
        return
    running = running_system(settings.data_dir)
    if running is not None:
        raise SystemExit(
            f"Switchboard already runs from {settings.data_dir} (pid {running['pid']}); "
            "stop it first, or give this one another DATA_DIR"
        )


@contextmanager
def embedded_servers(settings: Settings) -> Iterator[dict[str, str]]:
    """Start the servers that have no URL configured; yield the URLs to use."""
    # run_server.py imports the rest of Switchboard only inside functions, after main() has
    # set PROMETHEUS_MULTIPROC_DIR: prometheus_client chooses its mode at import time
    from persistence.embedded import published, start_postgres, start_redis

    env: dict[str, str] = {}
    with ExitStack() as stack:
        if not settings.database_url:
            server, url = start_postgres(settings.data_dir / "postgres")
            stack.callback(server.cleanup)
            env["DATABASE_URL"] = url
        if not settings.redis_url:
            redis_server = start_redis(settings.data_dir / "redis")
            stack.callback(redis_server.stop)
            env["REDIS_URL"] = redis_server.url
        if env:
            urls = {name.lower(): url for name, url in env.items()}
            runtime = stack.enter_context(
                published(settings.data_dir, {**urls, "broker_url": env.get("REDIS_URL", "")})
            )
            log.info("switchboard.runtime %s: the servers' URLs for scripts/manage.py and "
                     "celery -A tasks, while this runs", runtime)  # fmt: skip
        yield env


def prepare(settings: Settings) -> None:
    """Migrate, then create the configured default merchant."""
    from persistence.db import session_scope  # after PROMETHEUS_MULTIPROC_DIR, as above
    from persistence.migrate import upgrade
    from services.merchants.merchant import ensure_phone_number

    upgrade(settings.database_url or "")
    report_unreadable_credentials()
    if settings.whatsapp_phone_number_id and settings.whatsapp_access_token:
        with session_scope() as session:
            ensure_phone_number(
                session,
                phone_number_id=settings.whatsapp_phone_number_id,
                access_token=settings.whatsapp_access_token.get_secret_value(),
                display_phone_number=settings.whatsapp_display_phone_number,
                merchant_name=settings.merchant_name,
                whatsapp_business_account_id=settings.whatsapp_business_account_id,
            )


def report_unreadable_credentials() -> None:
    """Stored credentials that no key in SECRETS_KEY decrypts (a key removed before
    `rotate-secrets`, or lost) are said at start: everything else runs, but their numbers
    cannot call WhatsApp until the key is back or their tokens are entered again."""
    from persistence.crypto import undecryptable_credentials  # after PROMETHEUS_MULTIPROC_DIR
    from persistence.db import session_scope
    from persistence.models import Base

    with session_scope() as session:
        tables = list(Base.metadata.tables.values())
        unreadable = undecryptable_credentials(session.connection(), tables)
    if unreadable:
        log.error(
            "secrets.undecryptable %d stored credential(s) cannot be decrypted with any key in "
            "SECRETS_KEY (%s): put the key that encrypted them back, or enter them again",
            len(unreadable), ", ".join(unreadable),
        )  # fmt: skip


def sandbox_environment(settings: Settings) -> dict[str, str]:
    """The WhatsApp sandbox is on by default only in the embedded setup with no WhatsApp
    credentials and no Graph API URL configured: then every send goes to its fake Graph
    API in this server, so it must never be on where real customers are expected. Asked for
    with SANDBOX_ENABLED, it is still refused where anything says this is a real deployment
    (settings.sandbox_refusals)."""
    explicit = settings.model_fields_set
    embedded = not settings.database_url or not settings.redis_url
    real_whatsapp = any(
        getattr(settings, name) is not None
        for name in ("whatsapp_app_secret", "verify_token", "whatsapp_phone_number_id",
                     "whatsapp_access_token")
    )  # fmt: skip
    default = embedded and not real_whatsapp
    wanted = settings.sandbox_enabled if "sandbox_enabled" in explicit else default
    if not wanted or "whatsapp_api_base_url" in explicit:
        return {}  # a configured Graph API URL: the app refuses the sandbox and says why
    if settings.sandbox_refusals:  # a real deployment: its replies must reach WhatsApp
        log.warning(
            "sandbox.refused the WhatsApp sandbox stays off and WHATSAPP_API_BASE_URL is left "
            "alone: %s", "; ".join(settings.sandbox_refusals),
        )  # fmt: skip
        return {}
    env = {
        "SANDBOX_ENABLED": "true",
        "WHATSAPP_API_BASE_URL": f"http://127.0.0.1:{settings.port}{SANDBOX_GRAPH_PATH}",
    }
    if settings.whatsapp_app_secret is None:  # the sandbox signs its webhooks with it
        env["WHATSAPP_APP_SECRET"] = secrets.token_urlsafe(32)
    return env


def withdraw_sandbox(settings: Settings, sandbox_env: dict[str, str]) -> Settings:
    """The database may hold real business numbers (added through the API or manage.py):
    then the sandbox this process turned on is withdrawn before any worker or the API
    starts, so their replies reach WhatsApp. Returns the settings to run with."""
    from persistence.db import session_scope  # after PROMETHEUS_MULTIPROC_DIR, as above
    from services.sandbox.sandbox import real_numbers

    if not sandbox_env:
        return settings
    with session_scope() as session:
        numbers = real_numbers(session)
    if not numbers:
        return settings
    log.warning(
        "sandbox.refused the WhatsApp sandbox stays off and WHATSAPP_API_BASE_URL is left "
        "alone: the database holds %d business number(s) with a real access token (%s)",
        len(numbers), ", ".join(numbers),
    )  # fmt: skip
    for name in sandbox_env:
        os.environ.pop(name, None)
    get_settings.cache_clear()
    return get_settings()


def announce_sandbox(settings: Settings) -> None:
    """Where to click, and a local console login kept in DATA_DIR (readable by you only)."""
    from persistence.db import session_scope  # after PROMETHEUS_MULTIPROC_DIR, as above
    from services.sandbox.sandbox import ensure_local_operator

    if not settings.sandbox_active:
        return
    with session_scope() as session:
        token_file = ensure_local_operator(session, settings.data_dir / "console-token")
    root = f"http://127.0.0.1:{settings.port}"
    log.info(
        "switchboard.console %s/console (sign in with the token in %s); "
        "WhatsApp sandbox %s/sandbox",
        root, token_file, root,
    )  # fmt: skip


def media_link_environment(settings: Settings) -> dict[str, str]:
    """Signed library links need a key of their own, never the webhook's secret. The embedded
    setup makes one once and keeps it in DATA_DIR/media-link-secret (mode 0600), so links
    stay valid across restarts; elsewhere MEDIA_LINK_SECRET is set, or there are no links."""
    embedded = not settings.database_url or not settings.redis_url
    if settings.media_link_secret is not None or not embedded:
        return {}
    path = settings.data_dir / "media-link-secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
    return {"MEDIA_LINK_SECRET": path.read_text().strip()}


def secrets_key_environment(settings: Settings) -> dict[str, str]:
    """The key that encrypts provider credentials at rest. The embedded setup makes one once
    in DATA_DIR/secrets-key (mode 0600); with servers of its own (DATABASE_URL and
    REDIS_URL set) a start without SECRETS_KEY is refused: a key made up on one host would
    leave the credentials unreadable on every other. A bad key stops the start too, with a
    reason that names the setting and never quotes the key."""
    from persistence.crypto import SecretsKeyError, ensure_key_file, parse_keys

    embedded = not settings.database_url or not settings.redis_url
    if settings.secrets_key is None and not embedded:
        raise SystemExit(
            "SECRETS_KEY is not set: it encrypts the provider credentials stored in the database. "
            "Make one with `python scripts/manage.py generate-key` and keep it safe (see README)"
        )
    try:
        if settings.secrets_key is not None:
            parse_keys(settings.secrets_key.get_secret_value())
            return {}
        path = ensure_key_file(settings.data_dir)
        keys = path.read_text().strip()
        parse_keys(keys)
    except SecretsKeyError as exc:
        raise SystemExit(str(exc)) from None
    return {"SECRETS_KEY": keys}


def metrics_environment(settings: Settings) -> dict[str, str]:
    """One directory where the API and every worker process write their metrics, emptied at
    start (prometheus_client's multiprocess mode), unless one is configured."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return {}
    directory = settings.data_dir / "metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return {"PROMETHEUS_MULTIPROC_DIR": str(directory)}


def flower_environment(settings: Settings) -> dict[str, str]:
    """FLOWER_BASIC_AUTH (Flower reads it from its environment, so it stays off the command
    line), or a password generated into DATA_DIR/flower-auth on the first start."""
    where = f"http://{settings.host}:{settings.flower_port}"
    if settings.flower_basic_auth is not None:
        log.info("switchboard.flower %s (users and passwords: FLOWER_BASIC_AUTH)", where)
        return {"FLOWER_BASIC_AUTH": settings.flower_basic_auth.get_secret_value()}
    path = settings.data_dir / "flower-auth"
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(f"switchboard:{secrets.token_urlsafe(18)}\n")
    log.info("switchboard.flower %s (user:password in %s)", where, path)
    return {"FLOWER_BASIC_AUTH": path.read_text().strip()}


def api_processes(settings: Settings) -> int:
    """WEB_CONCURRENCY, else one API process per core: the webhook is CPU-bound Python."""
    if settings.web_concurrency is not None:
        return max(1, settings.web_concurrency)
    return os.cpu_count() or 1


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How the API is served (scripts/profile_api.py serves it the same way)."""
    return {
        "factory": True, "host": settings.host, "port": settings.port,
        "workers": api_processes(settings),
        "log_config": None,  # our JSON logs (observability.logs), not uvicorn's
        "access_log": False,  # api.access writes them: every refusal and error, a sample of 200s
        "proxy_headers": False,  # TRUSTED_PROXIES decides (api.proxies), not loopback
    }  # fmt: skip


def celery_command(role: str, concurrency: int, settings: Settings) -> list[str]:
    base = [sys.executable, "-m", "celery", "-A", "tasks", "--quiet"]  # no banner: JSON only
    if role == "flower":  # `celery -A tasks flower`, logging JSON lines
        return [sys.executable, "-m", "tasks.flower", f"--address={settings.host}",
                f"--port={settings.flower_port}"]  # fmt: skip
    if role == "worker":
        return [
            *base, "worker", "-Q", "default,messages,state,status",
            "--concurrency", str(concurrency), "--loglevel", settings.log_level,
        ]  # fmt: skip
    return [*base, "beat", "--loglevel", settings.log_level, "--schedule",
            str(settings.data_dir / "celerybeat-schedule")]  # fmt: skip


class Supervisor:
    """Runs the worker and beat, and starts one again when it dies, as systemd or
    Kubernetes would in production (a Celery worker exits on some broker failures, e.g. a
    Redis restart while it holds unacknowledged tasks)."""

    def __init__(self, commands: dict[str, list[str]], *, check_every: float = 1.0) -> None:
        self.commands = commands
        self.children = {role: subprocess.Popen(cmd) for role, cmd in commands.items()}
        self._stopping = threading.Event()
        self._check_every = check_every
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopping.wait(self._check_every):
            for role, child in list(self.children.items()):
                if child.poll() is not None and not self._stopping.is_set():
                    log.error(
                        "switchboard.%s.died exit=%s: starting it again", role, child.returncode
                    )
                    self.children[role] = subprocess.Popen(self.commands[role])

    def wait(self) -> None:
        self._stopping.wait()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        stop_children(list(self.children.values()))


def stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()


def _stop_as_on_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM (systemd, `kill`, a container stop) stops everything as Ctrl-C does; by
    default it would end this process alone, leaving its servers and children running."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings = Settings()  # not get_settings(): that would find a running system's URLs
    configure_logs(settings.log_level, settings.log_format)
    refuse_a_second_start(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(metrics_environment(settings))
    os.environ.update(media_link_environment(settings))
    os.environ.update(secrets_key_environment(settings))
    roles = roles_to_run(args.only, settings) + (["flower"] if args.flower else [])
    sandbox_env = sandbox_environment(settings)
    signal.signal(signal.SIGTERM, _stop_as_on_ctrl_c)
    with embedded_servers(settings) as urls:
        os.environ.update({**urls, **sandbox_env})  # children and this process see the same
        get_settings.cache_clear()
        settings = get_settings()
        prepare(settings)
        settings = withdraw_sandbox(settings, sandbox_env)
        announce_sandbox(settings)
        if "flower" in roles:
            os.environ.update(flower_environment(settings))
        supervisor = Supervisor(
            {role: celery_command(role, args.concurrency, settings)
             for role in roles if role != "api"}
        )  # fmt: skip
        try:
            if "api" in roles:
                log.info(
                    "switchboard.api http://%s:%s (docs at /docs)", settings.host, settings.port
                )
                uvicorn.run("api.app:create_served_app", **uvicorn_options(settings))
            else:
                supervisor.wait()
        except KeyboardInterrupt:
            pass
        finally:
            supervisor.stop()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
