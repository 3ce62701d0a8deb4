"""The console's answer form, made from a notification's stored JSON Schema."""

from __future__ import annotations

from api.console.answer_form import answer_fields, answer_from_form
from services.notifications.kinds import REGISTRY, NotificationType

SCHEMA = {
    "type": "object",
    "properties": {
        "note": {"anyOf": [{"type": "string", "maxLength": 50}, {"type": "null"}]},
        "days": {"type": "integer", "title": "Days", "description": "How long it takes."},
        "urgent": {"type": "boolean"},
        "team": {"type": "string", "enum": ["sales", "returns"]},
        "reply": {"type": "string", "maxLength": 4000, "description": "To the customer."},
    },
    "required": ["reply", "days"],
}


def test_one_field_per_property_required_first_with_widgets_of_their_type():
    fields = answer_fields(SCHEMA, customer_field="reply")
    assert [(f.name, f.widget, f.required) for f in fields] == [
        ("reply", "textarea", True),
        ("days", "number", True),
        ("note", "textarea", False),
        ("urgent", "checkbox", False),
        ("team", "select", False),
    ]
    reply, days, note, _, team = fields
    assert reply.reaches_customer and not note.reaches_customer
    assert (days.label, days.help) == ("Days", "How long it takes.")
    assert note.max_length == 50 and note.label == "Note"
    assert team.choices == ("sales", "returns")
    assert reply.input_name == "answer.reply"


def test_the_registered_answer_schemas_give_their_fields():
    support = REGISTRY[NotificationType.USER_SUPPORT_REQUEST]
    fields = answer_fields(support.answer_json_schema(), customer_field=support.customer_text_field)
    assert [(f.name, f.required, f.reaches_customer) for f in fields] == [
        ("agent_response_to_customer", True, True),
        ("resolution_notes", False, False),
    ]


def test_the_form_becomes_an_answer_without_judging_it():
    fields = answer_fields(SCHEMA, customer_field="reply")
    typed = {"reply": "  Yes, in 5 days. ", "days": "5", "note": "", "team": "returns"}
    assert answer_from_form(fields, typed) == {
        "reply": "Yes, in 5 days.", "days": 5, "urgent": False, "team": "returns",
    }  # fmt: skip
    # what does not parse is passed on as typed: the service's schema check reports it
    assert answer_from_form(fields, {"days": "soon", "urgent": "true"}) == {
        "days": "soon", "urgent": True,
    }  # fmt: skip
