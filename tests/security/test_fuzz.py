"""Every operation in the OpenAPI schema, fuzzed by schemathesis from the app itself: no input
makes the server fail (5xx), and without a valid token nothing but the public endpoints
succeeds. Bounded and derandomized, so a run is quick and every run is the same."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kombu.exceptions import OperationalError

from channels.simulators.webhooks import text_message_payload
from tests.conftest import ADMIN_TOKEN
from tests.helpers import post_webhook

pytestmark = pytest.mark.integration

# Open to anyone by design (README): load balancers and people check /health. /stats needs
# METRICS_TOKEN or an operator token (the test client is not on loopback). The webhook
# answers to Meta's signature and verify token, never to a bearer token, and says 401/403
# without them. /metrics, the console and the sandbox are not in the schema (the console
# has its own tests).
PUBLIC = {("GET", "/health")}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WITHOUT_CREDENTIALS = [
    None,
    "Bearer sbo_not-a-token",
    "Bearer ",
    f"Bearer {ADMIN_TOKEN}x",
    f"Bearer {ADMIN_TOKEN[:-1]}",
    f"Basic {ADMIN_TOKEN}",
    ADMIN_TOKEN,
]
FUZZ = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _operations() -> list[tuple[str, str]]:
    """Read at collection from the app's own schema: a new route is fuzzed without edits."""
    from api.app import create_app
    from settings import get_settings

    try:
        paths = create_app().openapi()["paths"]
    finally:
        get_settings.cache_clear()
    return sorted((method.upper(), path) for path, methods in paths.items() for method in methods)


@pytest.fixture(scope="module")
def schema(servers: dict[str, str]) -> Iterator[schemathesis.BaseSchema]:
    """The app under fuzz, its rate limits off: thousands of requests from one address."""
    from api.app import create_app
    from settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("API_RATE_LIMIT_PER_MINUTE", "0")
        patch.setenv("AUTH_FAILURES_PER_MINUTE", "0")
        get_settings.cache_clear()
        yield schemathesis.openapi.from_asgi("/openapi.json", create_app())
    get_settings.cache_clear()


@pytest.fixture
def seeded(client, merchant) -> None:
    """A merchant and one conversation (id 1) with a customer message, so that small ids
    reach real rows and the handoff and notification paths run."""
    payload = text_message_payload(phone_number_id=merchant["phone_number_id"])
    assert post_webhook(client, payload).status_code == 200


def _described(case: schemathesis.Case, response: schemathesis.Response) -> str:
    return f"{response.status_code} {response.text[:300]!r}\n{case.as_curl_command()}"


@pytest.mark.parametrize("method,path", _operations())
def test_admin_requests_never_fail_the_server(schema, seeded, method, path):
    @FUZZ
    @given(case=schema[path][method].as_strategy())
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call(headers=ADMIN)
        assert response.status_code < 500, _described(case, response)

    fuzz()


@pytest.mark.parametrize("method,path", _operations())
def test_without_credentials_nothing_private_succeeds(schema, seeded, method, path):
    public = (method, path) in PUBLIC

    @FUZZ
    @given(case=schema[path][method].as_strategy(), credential=st.sampled_from(WITHOUT_CREDENTIALS))
    def fuzz(case: schemathesis.Case, credential: str | None) -> None:
        response = case.call(headers={"Authorization": credential} if credential else {})
        assert response.status_code < 500, _described(case, response)
        if not public:
            assert response.status_code >= 400, _described(case, response)

    fuzz()


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every task sent from now on fails as Celery fails when its broker is unreachable."""
    from celery.app.task import Task

    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Task, "apply_async", refuse)


def test_notifications_are_opened_and_answered_during_a_broker_outage(client, seeded, broker_down):
    """Their rows are committed first and the sweeper sends what a lost broker dropped."""
    question = {"question": "Do you ship to Lisbon?"}
    opened = client.post(
        "/api/v1/notifications",
        headers=ADMIN,
        json={"conversation_id": 1, "notification_type": "user_question_request",
              "context": question},
    )  # fmt: skip
    assert opened.status_code == 201, opened.text
    answered = client.post(
        f"/api/v1/notifications/{opened.json()['id']}/answer",
        headers=ADMIN,
        json={"answer": {"answer": "Yes, in 3 days."}},
    )
    assert answered.status_code == 200, answered.text


def test_handback_answers_during_a_broker_outage(client, seeded, broker_down):
    conversation = {"conversation_id": 1}
    assert client.post("/api/v1/takeover", headers=ADMIN, json=conversation).status_code == 200
    handed_back = client.post("/api/v1/handback", headers=ADMIN, json=conversation)
    assert handed_back.status_code == 200, handed_back.text  # the customer's message waits


# --- the webhook: its body has no schema and needs a signature, so it is fuzzed here ---

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
NOT_NUL = st.characters(blacklist_characters="\x00")
WEBHOOK_FUZZ = settings(FUZZ, max_examples=50)  # cheap: no schema to generate from


def test_any_signed_json_is_answered_without_failing(client, merchant):
    @WEBHOOK_FUZZ
    @given(body=JSON | st.dictionaries(st.sampled_from(["object", "entry"]), JSON))
    def fuzz(body: object) -> None:
        response = post_webhook(client, json.dumps(body).encode())
        assert response.status_code in (200, 400), response.text

    fuzz()


def test_signed_messages_with_any_text_are_stored(client, merchant):
    @WEBHOOK_FUZZ
    @given(text=st.text(NOT_NUL, max_size=300), name=st.text(NOT_NUL, max_size=40))
    def fuzz(text: str, name: str) -> None:
        payload = text_message_payload(
            phone_number_id=merchant["phone_number_id"], text=text, profile_name=name
        )
        response = post_webhook(client, payload)
        assert response.status_code == 200, response.text

    fuzz()


def test_a_signed_message_with_a_nul_character_is_not_a_server_error(client, merchant):
    number = merchant["phone_number_id"]
    payload = text_message_payload(phone_number_id=number, text="a\x00b", profile_name="N\x00")
    assert post_webhook(client, payload).status_code < 500
