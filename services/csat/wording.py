"""What the customer reads: the survey and the thank-you, by language."""

from __future__ import annotations

from services.templates.defaults import pick_language

OPTION_PREFIX = "csat:"  # a survey row's id: "csat:5"

_WORDS: dict[str, dict[str, object]] = {
    "en": {
        "question": "How did we do?", "label": "Rate us",
        "scores": ("Very poor", "Poor", "Okay", "Good", "Excellent"),
        "thanks": "Thank you for your rating! Anything you would like to add? "
                  "Just write it here.",
    },
    "es": {
        "question": "¿Qué tal te atendimos?", "label": "Valorar",
        "scores": ("Muy mal", "Mal", "Regular", "Bien", "Excelente"),
        "thanks": "¡Gracias por tu valoración! ¿Quieres añadir algo? Escríbelo aquí.",
    },
    "pt_BR": {
        "question": "Como foi o nosso atendimento?", "label": "Avaliar",
        "scores": ("Muito ruim", "Ruim", "Regular", "Bom", "Excelente"),
        "thanks": "Obrigado pela sua avaliação! Quer acrescentar algo? É só escrever aqui.",
    },
    "fr": {
        "question": "Comment avons-nous fait ?", "label": "Noter",
        "scores": ("Très mauvais", "Mauvais", "Correct", "Bien", "Excellent"),
        "thanks": "Merci pour votre note ! Souhaitez-vous ajouter quelque chose ? "
                  "Écrivez-le ici.",
    },
}  # fmt: skip


def _words(language: str | None) -> dict[str, object]:
    return _WORDS[pick_language(_WORDS, language) or "en"]


def question(language: str | None) -> str:
    return str(_words(language)["question"])


def list_label(language: str | None) -> str:
    return str(_words(language)["label"])


def score_rows(language: str | None) -> list[tuple[str, str, str]]:
    """(id, title, description) rows, best first: ("csat:5", "5 Excellent", "")."""
    scores = _words(language)["scores"]
    assert isinstance(scores, tuple)
    return [(f"{OPTION_PREFIX}{n}", f"{n} {scores[n - 1]}", "") for n in range(5, 0, -1)]


def thanks(language: str | None) -> str:
    return str(_words(language)["thanks"])
