from graph.context import TurnContext
from graph.prompts import system_prompt


def _context(**overrides: object) -> TurnContext:
    values: dict = {
        "conversation_id": 1,
        "turn_id": 1,
        "merchant_id": 1,
        "merchant_name": "Acme Shoes",
        "merchant_description": "Running shoes.",
        "tone": "friendly",
        "default_language": "en",
        "customer_name": None,
        "customer_language": None,
    }
    return TurnContext(**{**values, **overrides})


def test_the_customer_prompt_asks_for_whatsapp_formatting_within_the_budget() -> None:
    prompt = system_prompt(_context(reply_max_chars=500))

    assert "at most about 500 characters" in prompt
    assert "*bold* with single asterisks" in prompt
    assert "plain text" not in prompt


def test_the_staff_prompt_asks_for_whatsapp_formatting_too() -> None:
    prompt = system_prompt(_context(role="admin", staff_type="admin"))

    assert "use WhatsApp formatting" in prompt and "never Markdown" in prompt
