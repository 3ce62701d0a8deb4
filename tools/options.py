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


# The schema goes with every chat request: descriptions only where the model needs them (a
# "title" without one gets a long generated one from langchain-google-genai). An id left
# empty becomes the choice's number.


class ButtonArg(BaseModel):
    title: str = Field(min_length=1, max_length=200, description="At most 20 characters.")
    id: str = Field(default="", max_length=256)


class RowArg(BaseModel):
    title: str = Field(min_length=1, max_length=200, description="At most 24 characters.")
    description: str = Field(default="", max_length=300, description="At most 72.")
    id: str = Field(default="", max_length=256)


class SectionArg(BaseModel):
    title: str = Field(default="", max_length=100, description="With several sections.")
    rows: list[RowArg] = Field(min_length=1, max_length=30)


class ListArg(BaseModel):
    button: str = Field(min_length=1, max_length=100, description="Its label, at most 20.")
    sections: list[SectionArg] = Field(min_length=1, max_length=10)


class CtaUrlArg(BaseModel):
    display_text: str = Field(min_length=1, max_length=100, description="At most 20.")
    url: str = Field(min_length=8, max_length=2000, description="https://")


class OptionsArgs(BaseModel):
    text: str = Field(min_length=1, max_length=4096, description="The question.")
    options: builtins.list[str] | None = Field(
        default=None, max_length=30, description="Simplest: 2-10 short choices."
    )
    buttons: builtins.list[ButtonArg] | None = Field(default=None, max_length=10)
    list: ListArg | None = None
    cta_url: CtaUrlArg | None = None
    location_request: bool = Field(default=False, description="Ask for their location.")

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
    """Send a message with choices the customer taps, in their language: one of options,
    buttons, list, cta_url (a link button) or location_request. Options: up to 3 of at most
    20 characters become buttons, up to 10 of at most 24 a list, more or longer numbered
    text. Text: at most 1024 characters with buttons or a list. Only when the customer must
    pick one of a few clear choices you know exist (a size or colour in stock, a delivery
    option, yes or no to a concrete offer, which order); not for open questions or
    information, not in every message. Sent at once: do not repeat it.
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
