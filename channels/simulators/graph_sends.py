"""A message send the Graph API simulator accepted, read the way the recipient's phone
shows it: what a host (the sandbox's simulated phones) needs, without reading Meta's
payloads itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Delivery:
    phone_number_id: str
    recipient: str  # the `to` phone without "+", or the `recipient` user id
    wamid: str
    kind: str  # text, template, interactive, reaction, or a media type
    text: str | None = None  # the text, a caption, an interactive body, "reacted 👍"
    media_id: str | None = None
    media_link: str | None = None
    filename: str | None = None
    template: dict[str, Any] | None = None  # name, language, header, body, buttons
    buttons: list[str] = field(default_factory=list)
    callback: str | None = None  # biz_opaque_callback_data, echoed in statuses


def delivery_of(phone_number_id: str, body: dict[str, Any], wamid: str) -> Delivery:
    """`body` is a send that passed `graph_wire.check_send`."""
    kind = body.get("type", "text")
    content = body[kind]
    common: dict[str, Any] = {
        "phone_number_id": phone_number_id,
        "recipient": str(body.get("to") or body["recipient"]).lstrip("+"),
        "wamid": wamid,
        "kind": kind,
        "callback": body.get("biz_opaque_callback_data"),
    }
    if kind == "text":
        return Delivery(**common, text=content["body"])
    if kind == "template":
        return Delivery(**common, template=_template(content))
    if kind == "interactive":
        text, buttons = _interactive(content)
        return Delivery(**common, text=text, buttons=buttons)
    if kind == "reaction":
        return Delivery(**common, text=f"reacted {content.get('emoji') or ''}".strip())
    return Delivery(
        **common, text=content.get("caption"), media_id=content.get("id"),
        media_link=content.get("link"), filename=content.get("filename"),
    )  # fmt: skip


def _template(content: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, list[str]] = {}
    buttons: list[str] = []
    for component in content.get("components") or []:
        values = [_parameter_text(p) for p in component.get("parameters") or []]
        kind = component["type"].lower()
        if kind == "button":
            buttons += values
        else:
            params.setdefault(kind, []).extend(values)
    return {
        "name": content["name"],
        "language": content["language"]["code"],
        "header": params.get("header", []),
        "body": params.get("body", []),
        "buttons": buttons,
    }


def _parameter_text(parameter: dict[str, Any]) -> str:
    kind = parameter.get("type", "text")
    if kind in ("text", "payload"):
        return str(parameter.get(kind, ""))
    value = parameter.get(kind)
    if isinstance(value, dict):
        return str(value.get("fallback_value") or value.get("link") or value.get("id") or kind)
    return str(value or kind)


def _interactive(content: dict[str, Any]) -> tuple[str, list[str]]:
    action, body = content["action"], content.get("body") or {}
    titles = [
        str((b.get("reply") or {}).get("title") or b.get("title") or "")
        for b in action.get("buttons") or []
        if isinstance(b, dict)
    ]
    for section in action.get("sections") or []:
        if not isinstance(section, dict):
            continue
        titles += [
            str(r.get("title", "")) for r in section.get("rows") or [] if isinstance(r, dict)
        ]
    if action.get("name") == "cta_url":  # a link button shows its label
        titles.append(str((action.get("parameters") or {}).get("display_text") or ""))
    return str(body.get("text") or ""), [t for t in titles if t]
