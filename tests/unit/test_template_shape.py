"""What a merchant's template needs when sent, read from Meta's components."""

from __future__ import annotations

from typing import Any

import pytest

from persistence.models import MessageTemplate
from services.templates.shape import shape_of


def _template(*extra: dict[str, Any], body: str = "Hi {{1}}, order {{2}}.", **kw: Any):
    components = [{"type": "BODY", "text": body}, *extra]
    return MessageTemplate(
        name="promo", language="en", body=body, components=components,
        parameter_format=kw.get("parameter_format", "POSITIONAL"),
    )  # fmt: skip


def test_body_and_text_header_parameters_are_counted():
    shape = shape_of(_template({"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}))
    assert (shape.header_parameters, shape.body_parameters, shape.parameter_count) == (1, 2, 3)
    assert shape.unsupported is None and shape.header == "Order {{1}}"


def test_static_buttons_and_a_footer_need_nothing():
    buttons = {"type": "BUTTONS", "buttons": [
        {"type": "QUICK_REPLY", "text": "Stop"},
        {"type": "URL", "text": "Shop", "url": "https://acme.test/"},
        {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550001111"},
    ]}  # fmt: skip
    shape = shape_of(_template({"type": "FOOTER", "text": "Acme"}, buttons))
    assert shape.unsupported is None and shape.buttons == ("Stop", "Shop", "Call")


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"type": "HEADER", "format": "VIDEO"}, "needs a header video"),
        ({"type": "BUTTONS", "buttons": [
            {"type": "URL", "text": "Track", "url": "https://acme.test/t/{{1}}"}]},
         "needs a URL button parameter"),
        ({"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SAVE10"}]},
         "needs a coupon code button parameter"),
        ({"type": "CAROUSEL", "cards": []}, "has a carousel component"),
    ],
)  # fmt: skip
def test_what_we_cannot_fill_yet_is_named(extra, reason):
    assert shape_of(_template(extra)).unsupported == f"template promo {reason}: not supported yet"


def test_named_parameters_are_refused_clearly():
    shape = shape_of(_template(body="Hi {{first_name}}!", parameter_format="NAMED"))
    assert shape.unsupported == "template promo uses named parameters ({{name}}): not supported yet"
