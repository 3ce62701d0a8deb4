"""reply_with_options: a message with choices the customer taps (buttons, a list), a link
button, or a location request, checked against WhatsApp's limits (numbered text beyond)."""

from __future__ import annotations

import builtins

from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, Field, model_validator

from graph.context import TurnContext
from persistence.models import DeliveryStatus
from services.delivery.flows import OfferSent, send_offer
from services.errors import DomainError
from services.interactive.offer import (
    Offer,
    offer_from_options,
    offer_with_buttons,
    offer_with_list,
)

_SENT = {
    DeliveryStatus.ACCEPTED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ,
    DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN,
}  # fmt: skip
_SHOWN_AS = {
    "buttons": "reply buttons",
    "list": "a list that opens from a button",
    "cta_url": "a link button",
    "location_request": "a button to share their location",
}


class ButtonArg(BaseModel):
    title: str = Field(min_length=1, max_length=200, description="At most 20 characters.")
    id: str = Field(default="", max_length=256, description="Optional id; default: its number.")


class RowArg(BaseModel):
    title: str = Field(min_length=1, max_length=200, description="At most 24 characters.")
    description: str = Field(default="", max_length=300, description="Optional, at most 72.")
    id: str = Field(default="", max_length=256, description="Optional id; default: its number.")


class SectionArg(BaseModel):
    title: str = Field(default="", max_length=100, description="Needed with several sections.")
    rows: list[RowArg] = Field(min_length=1, max_length=30)


class ListArg(BaseModel):
    button: str = Field(
        min_length=1, max_length=100, description="Label of the button that opens the list "
        "(at most 20 characters), in the customer's language.",
    )  # fmt: skip
    sections: list[SectionArg] = Field(min_length=1, max_length=10)


class CtaUrlArg(BaseModel):
    display_text: str = Field(min_length=1, max_length=100, description="At most 20 characters.")
    url: str = Field(min_length=8, max_length=2000, description="An https:// link.")


class OptionsArgs(BaseModel):
    text: str = Field(
        min_length=1, max_length=4096,
        description="The message, in the customer's language (at most 1024 characters for "
        "buttons or a list). Ask the question here; the choices go in options.",
    )  # fmt: skip
    options: builtins.list[str] | None = Field(
        default=None, max_length=30,
        description="The simplest form: 2 to 10 short choices (up to 3 of at most 20 characters "
        "become buttons, up to 10 of at most 24 a list; more or longer become numbered text).",
    )  # fmt: skip
    buttons: builtins.list[ButtonArg] | None = Field(default=None, max_length=10)
    list: ListArg | None = None
    cta_url: CtaUrlArg | None = None
    location_request: bool = Field(
        default=False, description="Ask the customer to share their location (for delivery)."
    )

    @model_validator(mode="after")
    def _one_shape(self) -> OptionsArgs:
        given = [self.options, self.buttons, self.list, self.cta_url, self.location_request]
        if sum(1 for shape in given if shape) != 1:
            raise ValueError(
                "give exactly one of options, buttons, list, cta_url or location_request=true"
            )
        return self

    def offer(self) -> Offer:
        if self.options:
            return offer_from_options(self.text, self.options)
        if self.buttons:
            return offer_with_buttons(self.text, [(b.id, b.title) for b in self.buttons])
        if self.list:
            sections = [
                (s.title, [(r.id, r.title, r.description) for r in s.rows])
                for s in self.list.sections
            ]
            return offer_with_list(self.text, self.list.button, sections)
        if self.cta_url:
            link = self.cta_url
            return Offer("cta_url", self.text, url=link.url, url_label=link.display_text)
        return Offer("location_request", self.text)


@tool("reply_with_options", args_schema=OptionsArgs)
def reply_with_options(runtime: ToolRuntime[TurnContext], **arguments: object) -> str:
    """Send the customer a message with a few choices they can tap (reply buttons or a
    list), a link button, or a request to share their location.

    Use it only when the customer must pick one of a few clear, known choices (a size, a
    delivery option, yes or no to a concrete offer, which of two orders): it saves typing.
    Do not use it for open questions, for information, or in every message: most answers
    are plain text. Never invent choices you do not know to exist (check with your tools
    first). The message is sent at once; do not repeat its text or its choices afterwards.
    The customer's answer comes back as "(chose: <title>, id <id>)".
    """
    args = OptionsArgs.model_validate(arguments)
    ctx = runtime.context
    try:
        sent = send_offer(
            conversation_id=ctx.conversation_id, turn_id=ctx.turn_id, offer=args.offer()
        )
    except DomainError as exc:
        return f"Error: could not send the options: {exc.message}. Answer in text instead."
    return _result(sent)


def _result(sent: OfferSent) -> str:
    if sent.status == DeliveryStatus.DROPPED:
        return "not sent: a human colleague has taken over this conversation."
    if sent.status not in _SENT:
        return f"Error: could not send the options ({sent.detail}). Answer in text instead."
    if sent.sent_as == "numbered":
        return (
            f"sent as numbered text instead ({sent.detail}); the customer can answer with a "
            "number. Do not repeat the message; add nothing unless you have more to say."
        )
    shown = _SHOWN_AS.get(sent.sent_as or "", "an interactive message")
    return (
        f"sent as {shown}. Do not repeat the message or its choices; add nothing unless you "
        "have more to say."
    )
