"""Meta's checks on interactive message sends (reply buttons, lists, URL buttons, location
requests), answered as the Cloud API does: error 131009 "Parameter value is not valid" with
the reason in `error_data.details`, or 100 for a missing part."""

from __future__ import annotations

from typing import Any

from channels.simulators.graph_wire import GraphError, nonempty, require

_KINDS = ("button", "list", "cta_url", "location_request_message", "product", "product_list")


def check_interactive(content: dict[str, Any]) -> None:
    kind = content.get("type")
    require(nonempty(kind), "interactive.type is required")
    action: Any = content.get("action")
    require(isinstance(action, dict), "interactive.action is required")
    _valid(kind in _KINDS, f"Invalid interactive type: {kind}")
    if kind == "product" and "body" not in content:  # a product card's body is optional
        return _product(action)
    body: Any = content.get("body")
    require(isinstance(body, dict) and isinstance(body.get("text"), str), "body.text is required")
    _length(body["text"], 1, 1024, "Body text")
    if kind == "button":
        _buttons(action)
    elif kind == "list":
        _list(action)
    elif kind == "cta_url":
        _cta_url(action)
    elif kind == "product":
        _product(action)
    elif kind == "product_list":
        _product_list(content, action)
    else:
        _valid(action.get("name") == "send_location", "action.name must be send_location")


def _buttons(action: dict[str, Any]) -> None:
    buttons: Any = action.get("buttons")
    require(isinstance(buttons, list), "action.buttons is required")
    _valid(
        1 <= len(buttons) <= 3,
        "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3",
    )
    ids, titles = [], []
    for button in buttons:
        reply: Any = button.get("reply") if isinstance(button, dict) else None
        require(isinstance(reply, dict) and button.get("type") == "reply", "button.reply required")
        _length(reply.get("title"), 1, 20, "Button title")
        _length(reply.get("id"), 1, 256, "Button id")
        ids.append(reply["id"])
        titles.append(reply["title"])
    _valid(len(set(ids)) == len(ids), "Duplicate button id")
    _valid(len(set(titles)) == len(titles), "Duplicate button title")


def _list(action: dict[str, Any]) -> None:
    _length(action.get("button"), 1, 20, "Button label")
    sections = _sections(action)
    rows: list[Any] = []
    for section in sections:
        if len(sections) > 1 or "title" in section:
            _length(section.get("title"), 1, 24, "Section title")
        require(isinstance(section.get("rows"), list), "section.rows is required")
        rows += section["rows"]
    _valid(len(rows) <= 10, "Total row count exceed max allowed count: 10")
    for row in rows:
        require(isinstance(row, dict), "each row must be an object")
        _length(row.get("title"), 1, 24, "Row title")
        _length(row.get("id"), 1, 200, "Row id")
        if "description" in row:
            _length(row["description"], 0, 72, "Row description")
    _valid(len({r["id"] for r in rows}) == len(rows), "Row ids must be unique")


def _cta_url(action: dict[str, Any]) -> None:
    parameters: Any = action.get("parameters")
    require(
        action.get("name") == "cta_url" and isinstance(parameters, dict),
        "action.name cta_url and action.parameters are required",
    )
    _length(parameters.get("display_text"), 1, 20, "Display text")
    url = parameters.get("url")
    _valid(isinstance(url, str) and url.startswith(("https://", "http://")), "Invalid URL")


def _product(action: dict[str, Any]) -> None:
    require(nonempty(action.get("catalog_id")), "action.catalog_id is required")
    require(nonempty(action.get("product_retailer_id")), "action.product_retailer_id is required")


def _product_list(content: dict[str, Any], action: dict[str, Any]) -> None:
    header: Any = content.get("header")
    require(isinstance(header, dict) and header.get("type") == "text", "header is required")
    _length(header.get("text"), 1, 60, "Header text")
    require(nonempty(action.get("catalog_id")), "action.catalog_id is required")
    items: list[Any] = []
    for section in _sections(action):
        _length(section.get("title"), 1, 24, "Section title")
        require(isinstance(section.get("product_items"), list), "product_items is required")
        items += section["product_items"]
    _valid(1 <= len(items) <= 30, "Total product count must be between 1 and 30")
    for item in items:
        require(
            isinstance(item, dict) and nonempty(item.get("product_retailer_id")),
            "product_retailer_id is required",
        )


def _sections(action: dict[str, Any]) -> list[dict[str, Any]]:
    sections: Any = action.get("sections")
    require(isinstance(sections, list) and bool(sections), "action.sections is required")
    _valid(len(sections) <= 10, "Too many sections. Max allowed sections: 10")
    for section in sections:
        require(isinstance(section, dict), "each section must be an object")
    return sections


def _length(value: Any, low: int, high: int, what: str) -> None:
    require(isinstance(value, str), f"{what.lower()} is required")
    limits = f"Min length: {low}, Max length: {high}"
    _valid(low <= len(value) <= high, f"{what} length invalid. {limits}")


def _valid(condition: bool, details: str) -> None:
    if not condition:
        raise GraphError(131009, details=details)
