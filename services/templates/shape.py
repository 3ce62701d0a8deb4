"""What a template needs when it is sent, read from Meta's components: how many body and
header parameters, and what we cannot fill yet (media headers, URL or code buttons, named
parameters), said plainly so a person knows why it cannot be chosen."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from persistence.models import MessageTemplate
from services.templates.defaults import PLACEHOLDER

_NAMED = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# buttons sent as they are: nothing to fill (a URL button only without a {{1}} in its URL)
_PLAIN_BUTTONS = frozenset({"QUICK_REPLY", "PHONE_NUMBER", "VOICE_CALL", "URL"})
_BUTTON_NAMES = {"COPY_CODE": "coupon code", "OTP": "one-time password", "FLOW": "flow"}


@dataclass(frozen=True)
class TemplateShape:
    body: str
    header: str | None  # a text header, as written
    footer: str | None
    buttons: tuple[str, ...]  # the buttons' texts
    body_parameters: int
    header_parameters: int
    unsupported: str | None  # why it cannot be sent from here yet; None: it can

    @property
    def parameter_count(self) -> int:
        return self.header_parameters + self.body_parameters


def shape_of(template: MessageTemplate) -> TemplateShape:
    components = template.components or [{"type": "BODY", "text": template.body}]
    header, footer = _part(components, "HEADER"), _part(components, "FOOTER")
    body = str(_part(components, "BODY").get("text") or template.body)
    buttons = [b for b in _part(components, "BUTTONS").get("buttons") or [] if isinstance(b, dict)]
    header_text = str(header["text"]) if header.get("text") else None
    return TemplateShape(
        body=body,
        header=header_text,
        footer=str(footer["text"]) if footer.get("text") else None,
        buttons=tuple(str(b.get("text") or "") for b in buttons),
        body_parameters=_count(body),
        header_parameters=_count(header_text or ""),
        unsupported=_unsupported(template, components, header, buttons),
    )


def _unsupported(
    template: MessageTemplate,
    components: list[dict[str, Any]],
    header: dict[str, Any],
    buttons: list[dict[str, Any]],
) -> str | None:
    name = template.name
    if template.parameter_format.upper() == "NAMED" and any(
        _NAMED.search(str(c.get("text") or "")) for c in components
    ):
        return f"template {name} uses named parameters ({{{{name}}}}): not supported yet"
    kind = str(header.get("format") or "TEXT").upper()
    if header and kind != "TEXT":
        return f"template {name} needs a header {kind.lower()}: not supported yet"
    for button in buttons:
        button_type = str(button.get("type") or "").upper()
        if button_type == "URL" and "{{" in str(button.get("url") or ""):
            return f"template {name} needs a URL button parameter: not supported yet"
        if button_type not in _PLAIN_BUTTONS:
            what = _BUTTON_NAMES.get(button_type, button_type.lower())
            return f"template {name} needs a {what} button parameter: not supported yet"
    known = {"HEADER", "BODY", "FOOTER", "BUTTONS"}
    other = next((t for c in components if (t := str(c.get("type")).upper()) not in known), None)
    if other is not None:
        return f"template {name} has a {other.lower()} component: not supported yet"
    return None


def _part(components: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next((c for c in components if str(c.get("type")).upper() == kind), {})


def _count(text: str) -> int:
    return max((int(n) for n in PLACEHOLDER.findall(text)), default=0)
