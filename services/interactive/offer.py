"""An offer: options shown to the customer, in our own words (stored with the outbound
message as raw["offer"]), and its two renderings: the channel's interactive message, or a
numbered plain text ("1. ...\\n2. ...") when the channel cannot carry it or its limits are
exceeded. A numbered answer ("2") maps back to the option it numbers."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from itertools import groupby
from typing import Any, Literal

from channels.base import ListRow, ListSection, OutboundInteractive, ReplyButton

Kind = Literal["buttons", "list", "cta_url", "location_request"]

MAX_BUTTONS = 3
MAX_OPTIONS = 10  # what operators may offer at once (a list's rows)
BUTTON_TITLE_CHARS = 20
DEFAULT_LIST_LABEL = "Choose"
# "2", "2.", "2)", " #2 ": a customer answering a numbered list by its number
_NUMBER_ANSWER = re.compile(r"^\s*#?(\d{1,2})\s*[.)]?\s*$")


@dataclass(frozen=True)
class Option:
    id: str
    title: str
    description: str | None = None
    section: str | None = None  # lists only: the title of the section it is in


@dataclass(frozen=True)
class Offer:
    kind: Kind
    body: str
    options: tuple[Option, ...] = ()
    list_label: str | None = None  # the button that opens a list
    url: str | None = None
    url_label: str | None = None
    sent_as: str | None = None  # the kind, or "numbered"; set when it is sent
    fallback_reason: str | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["options"] = [{k: v for k, v in asdict(o).items() if v} for o in self.options]
        return {k: v for k, v in data.items() if v not in (None, [])}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Offer:
        options = tuple(Option(**o) for o in data.get("options") or [])
        return cls(**{**data, "options": options})

    @property
    def titles(self) -> list[str]:
        return [option.title for option in self.options]


def offer_from_options(text: str, options: list[str], *, list_label: str | None = None) -> Offer:
    """Reply buttons for up to 3 short options, else a list (numbered text when it is over
    the channel's limits: the sender decides that, see `numbered_text`)."""
    titles = [" ".join(option.split()) for option in options if option.strip()]
    numbered = tuple(Option(str(n), title) for n, title in enumerate(titles, start=1))
    if len(titles) <= MAX_BUTTONS and all(len(t) <= BUTTON_TITLE_CHARS for t in titles):
        return Offer("buttons", text, numbered)
    return Offer("list", text, numbered, list_label=list_label or DEFAULT_LIST_LABEL)


def offer_with_buttons(text: str, buttons: list[tuple[str, str]]) -> Offer:
    """(id, title) pairs; an empty id becomes the button's number."""
    options = tuple(
        Option(option_id.strip() or str(n), title.strip())
        for n, (option_id, title) in enumerate(buttons, start=1)
    )
    return Offer("buttons", text, options)


def offer_with_list(
    text: str, label: str, sections: list[tuple[str, list[tuple[str, str, str]]]]
) -> Offer:
    """Sections of (id, title, description) rows; an empty id becomes the row's number."""
    rows = [(title, row) for title, section in sections for row in section]
    options = tuple(
        Option(row_id.strip() or str(n), row_title.strip(), description.strip() or None,
               section_title.strip() or None)
        for n, (section_title, (row_id, row_title, description)) in enumerate(rows, start=1)
    )  # fmt: skip
    return Offer("list", text, options, list_label=label.strip() or DEFAULT_LIST_LABEL)


def interactive(offer: Offer) -> OutboundInteractive:
    """The offer as the channel's interactive message (checked by the channel, not here)."""
    if offer.kind == "buttons":
        buttons = tuple(ReplyButton(o.id, o.title) for o in offer.options)
        return OutboundInteractive(offer.body, buttons=buttons)
    if offer.kind == "list":
        sections = tuple(
            ListSection(title, tuple(ListRow(o.id, o.title, o.description) for o in rows))
            for title, rows in groupby(offer.options, key=lambda o: o.section)
        )
        return OutboundInteractive(offer.body, list_button=offer.list_label, sections=sections)
    if offer.kind == "cta_url":
        return OutboundInteractive(offer.body, url=offer.url, url_label=offer.url_label)
    return OutboundInteractive(offer.body, location_request=True)


def numbered_text(offer: Offer) -> str:
    """The offer as plain text: the body, then one numbered line per option."""
    if offer.kind == "cta_url":
        return f"{offer.body}\n\n{offer.url_label}: {offer.url}".strip()
    lines = [
        f"{n}. {o.title}" + (f" ({o.description})" if o.description else "")
        for n, o in enumerate(offer.options, start=1)
    ]
    return "\n\n".join(part for part in (offer.body, "\n".join(lines)) if part)


def numbered_answer(offer: Offer, text: str | None) -> Option | None:
    """The option a reply like "2" picks, when the offer went out as numbered text."""
    if offer.sent_as != "numbered":
        return None
    index = number_picked(text) or 0
    return offer.options[index - 1] if 0 < index <= len(offer.options) else None


def number_picked(text: str | None) -> int | None:
    """The option number a reply like "2" or "#2." names (1 or more), if it is one."""
    match = _NUMBER_ANSWER.match(text or "")
    index = int(match.group(1)) if match else 0
    return index or None
