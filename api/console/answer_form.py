"""The answer form of a notification, made from the JSON Schema stored on its row.

One field per schema property, as an HTML control of its type. Turning the submitted form
back into an answer object only converts types; whether the answer is acceptable is the
service's call (services.notifications.answers validates it against the same schema).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request

FIELD_PREFIX = "answer."
Widget = Literal["textarea", "number", "checkbox", "select"]


@dataclass(frozen=True)
class AnswerField:
    name: str
    label: str
    help: str
    required: bool
    json_type: str  # string, integer, number or boolean
    widget: Widget
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    reaches_customer: bool = False

    @property
    def input_name(self) -> str:
        return FIELD_PREFIX + self.name


def answer_fields(schema: Mapping[str, Any], *, customer_field: str) -> list[AnswerField]:
    """The form's fields: the required ones first, in the order the schema lists them (a
    stored schema's properties come back from JSONB in its own key order)."""
    required = list(schema.get("required", []))
    properties = schema.get("properties") or {}
    names = [n for n in required if n in properties] + [n for n in properties if n not in required]
    return [
        _field(name, properties[name], required=name in required,
               reaches_customer=name == customer_field)
        for name in names
    ]  # fmt: skip


def _field(
    name: str, spec: Mapping[str, Any], *, required: bool, reaches_customer: bool
) -> AnswerField:
    variant = _non_null(spec)
    json_type = str(variant.get("type", "string"))
    choices = tuple(str(c) for c in variant.get("enum", ()))
    widget: Widget = (
        "select" if choices
        else "number" if json_type in ("integer", "number")
        else "checkbox" if json_type == "boolean"
        else "textarea"
    )  # fmt: skip
    return AnswerField(
        name=name,
        label=str(spec.get("title") or name.replace("_", " ").capitalize()),
        help=str(spec.get("description") or ""),
        required=required,
        json_type=json_type,
        widget=widget,
        max_length=variant.get("maxLength"),
        choices=choices,
        reaches_customer=reaches_customer,
    )


def _non_null(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """The property's own schema, or its first non-null variant (`str | None` fields)."""
    for variant in spec.get("anyOf") or spec.get("oneOf") or ():
        if variant.get("type") != "null":
            return {**spec, **variant}
    return spec


def answer_from_form(fields: list[AnswerField], typed: Mapping[str, str]) -> dict[str, Any]:
    """The answer object: empty fields left out (the service says which are required),
    numbers converted when they parse (the service reports those that do not)."""
    answer: dict[str, Any] = {}
    for field in fields:
        if field.widget == "checkbox":
            answer[field.name] = field.name in typed
            continue
        value = typed.get(field.name, "").strip()
        if value:
            answer[field.name] = _typed_value(field.json_type, value)
    return answer


def _typed_value(json_type: str, value: str) -> Any:
    try:
        if json_type == "integer":
            return int(value)
        if json_type == "number":
            return float(value)
    except ValueError:
        pass
    return value


async def typed_answer(request: Request) -> dict[str, str]:
    """What the operator typed in the answer form, by property name (kept to show it again)."""
    form = await request.form()
    return {
        key.removeprefix(FIELD_PREFIX): value
        for key, value in form.multi_items()
        if key.startswith(FIELD_PREFIX) and isinstance(value, str)
    }
