"""A full run of `python run_server.py`, as a newcomer starts it (embedded PostgreSQL and
Redis, API, worker and beat) at LOG_LEVEL=INFO with JSON logs: a customer writes, the AI
answers, an operator takes over, writes and hands back, someone guesses a token. Then
everything the processes wrote is searched for secrets and message bodies."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from channels.simulators.webhooks import sign, text_message_payload
from persistence.embedded import free_port
from tests.conftest import (
    ADMIN_TOKEN,
    APP_SECRET,
    EVENTS_SECRET,
    GEMINI_KEY,
    OPENAI_KEY,
    ROOT,
    VERIFY_TOKEN,
)
from tests.helpers import eventually
from tests.integration.console_helpers import LOGIN_CSRF

pytestmark = pytest.mark.integration

PHONE_NUMBER_ID = "109000555123"
CUSTOMER = "15557654321"
ACCESS_TOKEN = "EAAG-log-check-" + secrets.token_hex(12)
CARD = "4111 1111 1111 1111"
CUSTOMER_TEXT = f"My card is {CARD}, CVV 737, please charge it again"
OPERATOR_TEXT = "Your refund code is RFND-77331-QXZ, keep it safe"
NOTE = "customer is upset about card 4111-CHECK-NOTE"
WRONG_TOKEN = "sbo_guess-" + secrets.token_hex(16)
# Log records in the text formats of Celery or of the logging module: not ours.
TEXT_LOG = re.compile(
    r"^\[\d{4}-\d\d-\d\d [\d:,]+: [A-Z]+/|^(DEBUG|INFO|WARNING|ERROR|CRITICAL)[: ]"
)


@dataclass
class Run:
    log: str
    secrets: dict[str, str]


def _environment(data_dir: Path, port: int, fakes: dict) -> dict[str, str]:
    # SECRETS_KEY too: run_server.py generates one into DATA_DIR, as on a first start
    dropped = (
        "DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "SANDBOX_ENABLED", "SECRETS_KEY",
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        DATA_DIR=str(data_dir), PORT=str(port), PYTHONPATH=str(ROOT),
        LOG_LEVEL="INFO", LOG_FORMAT="json",
        ADMIN_API_TOKEN=ADMIN_TOKEN, WHATSAPP_APP_SECRET=APP_SECRET, VERIFY_TOKEN=VERIFY_TOKEN,
        WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID, WHATSAPP_ACCESS_TOKEN=ACCESS_TOKEN,
        WHATSAPP_API_BASE_URL=fakes["graph"].url, LLM_PROVIDER="gemini",
        GOOGLE_API_KEY=GEMINI_KEY, GEMINI_BASE_URL=fakes["gemini"].base_url,
        OPENAI_API_KEY=OPENAI_KEY, OPENAI_BASE_URL=fakes["openai"].base_url,
        EVENTS_WEBHOOK_URL=f"{fakes['events'].url}/switchboard-events",
        EVENTS_WEBHOOK_SECRET=EVENTS_SECRET, BUFFER_SECONDS="0.5", BUFFER_MAX_SECONDS="2",
    )  # fmt: skip
    return env


def _wait_healthy(http: httpx.Client, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http.get("/health", timeout=2).json().get("workers"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise AssertionError("run_server.py did not become healthy with a worker")


def _customer_writes(http: httpx.Client, text: str) -> str:
    payload = text_message_payload(phone_number_id=PHONE_NUMBER_ID, wa_id=CUSTOMER, text=text)
    body = json.dumps(payload).encode()
    signature = sign(body, APP_SECRET)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    assert http.post("/webhook", content=body, headers=headers).status_code == 200
    return signature


def _failed_logins(http: httpx.Client) -> None:
    assert http.get("/api/v1/conversations", headers=_bearer(WRONG_TOKEN)).status_code == 401
    form = http.get("/console/login")
    login_csrf = LOGIN_CSRF.search(form.text).group(1)
    data = {"token": WRONG_TOKEN, "login_csrf": login_csrf, "next": "/console/inbox"}
    assert http.post("/console/login", data=data).status_code == 401


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _drive(http: httpx.Client, fakes: dict) -> dict[str, str]:
    """The whole story; returns the secrets it used."""
    challenge = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"}
    assert http.get("/webhook", params=challenge).text == "42"
    signature = _customer_writes(http, CUSTOMER_TEXT)
    eventually(lambda: fakes["graph"].texts_to(CUSTOMER), timeout=60)  # the AI's answer
    created = http.post("/api/v1/operators", headers=_bearer(ADMIN_TOKEN), json={"name": "Olga"})
    operator = _bearer(created.json()["token"])
    customer = {"customer": CUSTOMER}
    assert http.post("/api/v1/takeover", headers=operator, json=customer).status_code == 200
    sent = http.post("/api/v1/operator-message", headers=operator,
                     json={**customer, "text": OPERATOR_TEXT})  # fmt: skip
    assert sent.status_code == 200, sent.text
    handback = http.post("/api/v1/handback", headers=operator, json={**customer, "note": NOTE})
    assert handback.status_code == 200
    _failed_logins(http)
    return {
        "operator token": created.json()["token"],
        "webhook signature": signature.removeprefix("sha256="),
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)  # Ctrl-C, as a person stops it
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="module")
def run(servers: dict[str, str], fakes: dict) -> Iterator[Run]:
    for fake in fakes.values():
        fake.reset()
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-logs-"))
    port = free_port()
    log_path = data_dir / "everything.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "run_server.py"], cwd=ROOT, env=_environment(data_dir, port, fakes),
            start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            _wait_healthy(http)
            used = _drive(http, fakes)
            time.sleep(3)  # the turn after handback, status webhooks, events: let them log
    finally:
        _stop(process)
    used["embedded Redis password"] = (data_dir / "redis" / "password").read_text().strip()
    used["generated SECRETS_KEY"] = (data_dir / "secrets-key").read_text().strip()
    yield Run(log=log_path.read_text(errors="replace"), secrets=used)
    shutil.rmtree(data_dir, ignore_errors=True)


def _secrets(run: Run) -> dict[str, str]:
    return {
        "customer's message": CUSTOMER_TEXT,
        "card number": CARD,
        "operator's message": OPERATOR_TEXT,
        "handback note": NOTE,
        "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
        "GOOGLE_API_KEY": GEMINI_KEY,
        "OPENAI_API_KEY": OPENAI_KEY,
        "ADMIN_API_TOKEN": ADMIN_TOKEN,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "VERIFY_TOKEN": VERIFY_TOKEN,
        "EVENTS_WEBHOOK_SECRET": EVENTS_SECRET,
        "a guessed token": WRONG_TOKEN,
        **run.secrets,
    }


def test_the_logs_hold_no_secret_and_no_message_body(run):
    leaks = {
        name: [line for line in run.log.splitlines() if value in line][:3]
        for name, value in _secrets(run).items()
    }
    assert {name: lines for name, lines in leaks.items() if lines} == {}


def test_every_process_logs_json_lines(run):
    records = [json.loads(line) for line in run.log.splitlines() if _is_json_object(line)]
    loggers = {record.get("logger", "") for record in records}
    assert "switchboard" in loggers and "api.access" in loggers  # the API
    assert "celery.app.trace" in loggers  # the worker ran tasks
    assert "celery.beat" in loggers
    assert all(record.get("level") and record.get("timestamp") for record in records)
    text_records = [line for line in run.log.splitlines() if TEXT_LOG.match(line)]
    assert text_records == []


def test_nothing_but_json_reaches_the_output(run):
    lines = [line for line in run.log.splitlines() if line.strip()]
    assert [line for line in lines if not _is_json_object(line)] == []
    shutdown = [json.loads(line) for line in lines if '"worker.shutdown"' in line]
    assert shutdown and shutdown[0]["how"] == "warm"  # Celery's stdout line, as a log line


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False
