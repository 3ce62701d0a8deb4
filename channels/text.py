"""Split long replies into WhatsApp-sized messages at the most natural boundary available."""

from __future__ import annotations

import re
import unicodedata

WHATSAPP_TEXT_LIMIT = 4096

_PARAGRAPH = re.compile(r"\n[ \t]*\n")
# Latin/Arabic/Devanagari sentence ends need a following space; CJK full stops do not.
_SENTENCE = re.compile(r"(?:[.!?؟۔।…][\"'”’»)\]]*(?=\s)|[。！？][」』”’）]*)")
_ZWJ = "\u200d"


def split_message(text: str, limit: int = WHATSAPP_TEXT_LIMIT) -> list[str]:
    if limit < 1:
        raise ValueError("limit must be positive")
    rest = text.strip()
    parts: list[str] = []
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            parts.append(head)
    if rest:
        parts.append(rest)
    return parts


def _cut_point(text: str, limit: int) -> int:
    """Where to end the next part: always in 1..limit, so every loop makes progress."""
    window = text[: limit + 1]  # a boundary right at `limit` still yields a full part
    for boundary in (_last_paragraph, _last_sentence, _last_space):
        cut = boundary(window, limit)
        if cut > 0:
            return cut
    return _grapheme_safe(text, limit)


def _last_paragraph(window: str, limit: int) -> int:
    starts = [m.start() for m in _PARAGRAPH.finditer(window) if m.start() <= limit]
    return starts[-1] if starts else 0


def _last_sentence(window: str, limit: int) -> int:
    ends = [m.end() for m in _SENTENCE.finditer(window) if m.end() <= limit]
    return ends[-1] if ends else 0


def _last_space(window: str, limit: int) -> int:
    for index in range(min(limit, len(window) - 1), 0, -1):
        if window[index].isspace():
            return index
    return 0


def _grapheme_safe(text: str, cut: int) -> int:
    """Step back so emoji ZWJ sequences, modifiers and combining marks stay whole."""
    candidate = cut
    while candidate > 0 and _joins(text[candidate - 1], text[candidate]):
        candidate -= 1
    return candidate or cut  # a single grapheme longer than the limit: cut it anyway


def _joins(before: str, after: str) -> bool:
    if before == _ZWJ or after == _ZWJ:
        return True
    if unicodedata.combining(after) or unicodedata.category(after) in ("Mn", "Me", "Mc"):
        return True
    code = ord(after)
    return (
        0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag sequences (subdivision flags)
    )
