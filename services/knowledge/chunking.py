"""Cutting a document into overlapping passages, the unit that search ranks and returns.

A long document (a returns policy in nine sections) answers many questions, each in one
place; ranked whole, its best section drowns in the rest and the model gets fragments.
Passages follow the text's own paragraphs and sentences, up to CHUNK_CHARS each, and each
repeats the previous passage's last sentence, so an answer that spans a boundary is whole
in one of them. A short document is one passage.
"""

from __future__ import annotations

import re

CHUNK_CHARS = 700
OVERLAP_MAX_CHARS = 250  # a longer last sentence is not repeated
_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCES = re.compile(r"(?<=[.!?;:])\s+(?=\S)")


def chunk(text: str, *, size: int = CHUNK_CHARS) -> list[str]:
    """The passages of `text`, in order; [] for an empty text."""
    text = text.strip()
    if len(text) <= size:
        return [text] if text else []
    passages: list[str] = []
    current: list[str] = []
    for paragraph in _PARAGRAPHS.split(text):
        for sentence in _pieces(paragraph, size):
            if current and len(" ".join([*current, sentence])) > size:
                passages.append(" ".join(current))
                last = current[-1]
                current = [last] if len(last) <= OVERLAP_MAX_CHARS else []
            current.append(sentence)
        if current and len(" ".join(current)) > size // 2:  # a paragraph ends a passage
            passages.append(" ".join(current))
            current = []
    if current:
        passages.append(" ".join(current))
    return passages


def _pieces(paragraph: str, size: int) -> list[str]:
    """The paragraph's sentences, each cut at a word boundary if longer than `size`."""
    pieces = []
    for sentence in _SENTENCES.split(" ".join(paragraph.split())):
        while len(sentence) > size:
            cut = sentence.rfind(" ", 0, size)
            cut = cut if cut > 0 else size
            pieces.append(sentence[:cut])
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    return pieces
