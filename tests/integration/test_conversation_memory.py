"""What a long conversation keeps (#21 point 7): messages leaving the prompt are folded into
a running summary, and old tool results keep their findings without their instructions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from persistence.db import session_scope
from services.knowledge import knowledge
from tasks import runner, runtime
from tests.helpers import store_text

pytestmark = pytest.mark.integration


@pytest.fixture
def small_prompt(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A prompt budget of a few messages, so the conversation outgrows it quickly."""
    from settings import get_settings

    monkeypatch.setenv("CONTEXT_MAX_TOKENS", "120")
    get_settings.cache_clear()
    runtime.reset()
    yield
    monkeypatch.delenv("CONTEXT_MAX_TOKENS")
    get_settings.cache_clear()
    runtime.reset()


def _memory(request: dict, schema: dict) -> dict:
    if "order_ids" not in schema.get("properties", {}):
        return {}
    return {
        "customer_name": "Ana", "language": "en", "order_ids": ["#4411"],
        "open_issues": ["change the delivery address"], "promises": None, "facts": [],
    }  # fmt: skip


def test_an_order_number_outlives_the_prompt_budget(merchant, fakes, small_prompt):
    gemini = fakes["gemini"]
    gemini.structured = _memory
    conversation_id = store_text(merchant, "Hi, I'm Ana. My order #4411 must go to a new address.")
    runner.run(conversation_id)
    for n in range(4):
        store_text(merchant, f"Another long message number {n} about shoes, sizes and colours.")
        runner.run(conversation_id)

    (first, *_) = gemini.structured_requests
    assert "My order #4411" in str(first)  # the summariser read the message leaving the prompt
    said = gemini.user_texts(gemini.requests[-1])
    assert not any("My order #4411" in text for text in said)  # out of the prompt...
    (context,) = [text for text in said if text.startswith("[Context]")]  # ...but summarised,
    assert "Earlier in this conversation" in context  # as data the customer's words made
    assert '"Orders and bookings: #4411"' in context
    assert '"Open: change the delivery address"' in context
    assert "#4411" not in gemini.system_text(gemini.requests[-1])
    # each message is summarised once: fewer summaries than turns that dropped messages
    summarised = [str(r) for r in gemini.structured_requests]
    assert sum("My order #4411" in text for text in summarised) == 1
    # what the summary covers is no longer loaded and written back by every turn
    kept = _checkpointed(conversation_id)
    assert kept["summarised"] == 0 and "#4411" in kept["summary"]
    assert kept["messages"][0].type == "human"
    assert not any("My order #4411" in m.text for m in kept["messages"])


def test_without_a_summary_the_checkpoint_keeps_what_left_the_prompt(merchant, fakes, small_prompt):
    fakes["gemini"].structured_failures = fakes["openai"].structured_failures = 100  # both down
    conversation_id = store_text(merchant, "Hi, I'm Ana. My order #4411 must go to a new address.")
    for n in range(4):
        runner.run(conversation_id)
        store_text(merchant, f"Another long message number {n} about shoes, sizes and colours.")
    runner.run(conversation_id)
    said = fakes["gemini"].user_texts(fakes["gemini"].requests[-1])
    assert not any("My order #4411" in text for text in said)  # out of the prompt, but
    kept = _checkpointed(conversation_id)  # kept for the summariser's next try
    assert "My order #4411" in kept["messages"][0].text and not kept.get("summary")


def _checkpointed(conversation_id: int) -> dict:
    config = {"configurable": {"thread_id": str(conversation_id)}}
    return runtime.conversation_graph().get_state(config).values


def test_without_a_summary_the_conversation_goes_on(merchant, fakes, small_prompt):
    fakes["gemini"].structured_failures = 10  # the light model is down
    conversation_id = store_text(merchant, "Hi, I'm Ana. My order #4411 must go to a new address.")
    for n in range(3):
        runner.run(conversation_id)
        store_text(merchant, f"Another long message number {n} about shoes, sizes and colours.")
    assert runner.run(conversation_id).status == "replied"


def test_an_old_search_result_keeps_its_passages_not_its_instructions(merchant, fakes):
    gemini = fakes["gemini"]
    with session_scope() as session:
        knowledge.create_document(session, merchant_id=merchant["id"], title="Shipping",
                                  content="We ship to Canada within 5 days.")  # fmt: skip
    gemini.call_tool("search_knowledge_base", {"query": "ship Canada"})
    gemini.reply("Yes, within 5 days.")
    conversation_id = store_text(merchant, "Do you ship to Canada?")
    runner.run(conversation_id)
    this_turn = gemini.tool_outputs(gemini.requests[1])
    assert "Answer only from these passages" in this_turn[0]

    store_text(merchant, "thanks!")
    runner.run(conversation_id)

    (later,) = gemini.tool_outputs(gemini.requests[-1])
    assert "We ship to Canada within 5 days." in later
    assert "Answer only from these passages" not in later
