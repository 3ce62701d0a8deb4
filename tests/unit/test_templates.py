"""Filling templates and the shipped defaults; no database (resolve() is tested against
PostgreSQL in tests/integration/test_templates.py)."""

from __future__ import annotations

import re

import pytest

from channels.base import OutboundTemplate
from services.templates.defaults import (
    BODY_LIMIT,
    EXAMPLES,
    PARAMETERS,
    SHIPPED,
    SHIPPED_LANGUAGES,
    TemplateRole,
    body_problems,
    example_values,
    normalize_language,
    pick_language,
)
from services.templates.templates import ResolvedTemplate, build, clean_parameter

QUESTION = ResolvedTemplate(
    name="switchboard_question_answer",
    language="en",
    body='Hi! This is {{1}} following up on your question "{{2}}". Our answer: {{3}}\n\nBye.',
    parameters=("merchant_name", "question", "answer"),
)
VALUES = {"merchant_name": "Acme Shoes", "question": "Canada?", "answer": "yes, in 5 days."}


# --- build ----------------------------------------------------------------------------


def test_build_gives_the_template_with_its_body_parameters_in_order() -> None:
    message = build(QUESTION, VALUES)
    assert message.template == OutboundTemplate(
        "switchboard_question_answer", "en", ("Acme Shoes", "Canada?", "yes, in 5 days.")
    )


def test_build_renders_the_body_with_the_values() -> None:
    text = build(QUESTION, VALUES).text
    assert text == (
        'Hi! This is Acme Shoes following up on your question "Canada?". '
        "Our answer: yes, in 5 days.\n\nBye."
    )


def test_a_missing_value_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="answer"):
        build(QUESTION, {"merchant_name": "Acme", "question": "Canada?"})


def test_a_none_value_counts_as_missing() -> None:
    with pytest.raises(ValueError, match="question"):
        build(QUESTION, {**VALUES, "question": None})


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("line one\nline two", "line one line two"),
        ("a\r\nb", "a b"),
        ("tab\there", "tab here"),
        ("five     spaces", "five spaces"),
        ("  padded  ", "padded"),
        ("", "-"),
        (" \n\t ", "-"),
    ],
)
def test_parameters_are_cleaned_as_whatsapp_requires(raw: str, clean: str) -> None:
    assert clean_parameter(raw) == clean
    parameters = build(QUESTION, {**VALUES, "answer": raw}).template.parameters
    assert parameters[2] == clean


def test_every_parameter_obeys_the_text_rules() -> None:
    values = {"merchant_name": "A\tB", "question": "x\n\ny", "answer": "   "}
    for text in build(QUESTION, values).template.parameters:
        assert text.strip() and "\n" not in text and "\t" not in text and "     " not in text


def test_long_values_are_shortened_so_the_body_fits_1024_characters() -> None:
    values = {**VALUES, "question": "q" * 900, "answer": "a" * 2000}
    message = build(QUESTION, values)
    texts = message.template.parameters
    assert len(message.text) <= BODY_LIMIT
    assert texts[0] == "Acme Shoes"  # the short one is untouched
    assert texts[1].endswith("…") and texts[2].endswith("…")
    assert abs(len(texts[1]) - len(texts[2])) <= 1  # the longest give way evenly


def test_values_that_fit_are_never_shortened() -> None:
    values = {**VALUES, "answer": "a" * 900}
    message = build(QUESTION, values)
    assert message.template.parameters[2] == "a" * 900
    assert len(message.text) <= BODY_LIMIT


def test_a_template_without_parameters_has_none() -> None:
    plain = ResolvedTemplate(name="hello", language="en", body="Hello there.", parameters=())
    message = build(plain, {})
    assert message.template == OutboundTemplate("hello", "en")
    assert message.text == "Hello there."


def test_extra_values_are_ignored() -> None:
    message = build(QUESTION, {**VALUES, "notification_id": "NOTIF_1"})
    assert len(message.template.parameters) == 3


# --- shipped defaults -----------------------------------------------------------------


def test_every_role_ships_in_english_spanish_portuguese_and_french() -> None:
    assert set(SHIPPED_LANGUAGES) == {"en", "es", "pt_BR", "fr"}
    for role in TemplateRole:
        for language in SHIPPED_LANGUAGES:
            assert (role, language) in SHIPPED


@pytest.mark.parametrize("key", sorted(SHIPPED, key=str))
def test_shipped_templates_follow_metas_rules(key: tuple[TemplateRole, str]) -> None:
    template = SHIPPED[key]
    assert body_problems(template.body, len(template.parameters)) == []
    assert re.fullmatch(r"[a-z0-9_]{1,512}", template.name)
    assert template.category == "UTILITY"
    assert template.parameters == PARAMETERS[template.role]


def test_one_name_per_role_across_languages() -> None:
    for role in TemplateRole:
        assert len({SHIPPED[(role, language)].name for language in SHIPPED_LANGUAGES}) == 1


def test_staff_requests_ask_to_reply_to_the_message() -> None:
    for role in (
        TemplateRole.MERCHANT_USER_QUESTION_REQUEST,
        TemplateRole.MERCHANT_USER_OVERRIDE_REQUEST,
    ):
        assert "reply to this message" in SHIPPED[(role, "en")].body
        assert "responde a este mensaje" in SHIPPED[(role, "es")].body


def test_every_value_has_an_example_in_every_shipped_language() -> None:
    names = {name for parameters in PARAMETERS.values() for name in parameters}
    for language in SHIPPED_LANGUAGES:
        assert names <= set(EXAMPLES[language])


def test_example_values_follow_the_parameters_and_fall_back_to_english() -> None:
    assert example_values(("merchant_name", "answer"), "es_MX") == [
        EXAMPLES["es"]["merchant_name"],
        EXAMPLES["es"]["answer"],
    ]
    assert example_values(("question", "coupon_code"), "de") == [
        EXAMPLES["en"]["question"],
        "coupon_code",  # order_number has examples now (the order templates)
    ]


@pytest.mark.parametrize(
    ("body", "count", "problem"),
    [
        ("{{1}} is here.", 1, "start or end"),
        ("Here is {{1}}", 1, "start or end"),
        ("Hi {{1}} {{2}} there.", 2, "side by side"),
        ("Hi {{1}} and {{3}} there.", 2, "placeholders must be"),
        ("Hi {{1}}.", 2, "placeholders must be"),
        ("x" * 1025, 0, "longer than 1024"),
    ],
)
def test_body_problems_finds_what_meta_refuses(body: str, count: int, problem: str) -> None:
    assert any(problem in found for found in body_problems(body, count))


# --- languages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "normal"),
    [("es", "es"), ("ES", "es"), ("es-mx", "es_MX"), ("pt_br", "pt_BR"), (" en_US ", "en_US")],
)
def test_language_codes_are_spelled_as_whatsapp_does(code: str, normal: str) -> None:
    assert normalize_language(code) == normal


@pytest.mark.parametrize(
    ("available", "wanted", "picked"),
    [
        (["en", "es_MX"], "es", "es_MX"),  # a customer's "es" takes a merchant's es_MX
        (["en", "pt"], "pt_BR", "pt"),  # and pt_BR takes pt
        (["es", "es_MX"], "es_MX", "es_MX"),  # the exact code first
        (["es_MX", "es", "es_AR"], "es_CO", "es"),  # then the bare base code
        (["es_MX", "es_AR"], "es_CO", "es_AR"),  # then the first of the same base
        (["en", "es"], "es-ES", "es"),
        (["en", "es"], "de", None),
        (["en"], None, None),
        (["en"], "  ", None),
    ],
)
def test_pick_language(available: list[str], wanted: str | None, picked: str | None) -> None:
    assert pick_language(available, wanted) == picked
