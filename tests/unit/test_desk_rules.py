"""The desk's small rules: canned response variables and label normalisation."""

from __future__ import annotations

import pytest

from services.desk.canned import fill
from services.desk.labels import normalise
from services.errors import InvalidInput


def test_known_variables_are_filled_and_unknown_or_empty_ones_stay_visible():
    rendered = fill(
        "Hi {{ customer_name }}, {{operator_name}} here about {{order_id}} for {{merchant_name}}",
        {"customer_name": "Ana", "operator_name": "Olga", "merchant_name": None},
    )
    assert rendered.text == "Hi Ana, Olga here about {{order_id}} for {{merchant_name}}"
    assert rendered.unknown == ["order_id", "merchant_name"]


def test_labels_are_trimmed_lowercased_and_single_spaced():
    assert normalise("  VIP   Customer ") == "vip customer"


@pytest.mark.parametrize("label", ["", "   ", "<b>", "x" * 41])
def test_a_label_that_is_empty_too_long_or_markup_is_refused(label):
    with pytest.raises(InvalidInput):
        normalise(label)
