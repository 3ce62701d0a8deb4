"""Markdown, as models write it, turned into WhatsApp's own formatting.

WhatsApp renders `*bold*`, `_italic_`, `~strike~`, ```` ```monospace``` ````, `` `code` ``,
`- ` and `* ` bullets, `1. ` numbered lists and `> ` quotes; anything else (`**`, `##`,
`[text](url)`, tables) arrives as raw symbols. URLs, e-mail addresses and code are never
touched, and text already in WhatsApp's format comes out unchanged, so converting twice
gives what converting once gave (a redone turn splits its reply the same way).

One ambiguity: `*word*` is italic in Markdown but bold on WhatsApp. It is read as Markdown
italic only in a text that also uses Markdown's bold (`**` or `__`); otherwise it is taken
as WhatsApp bold, which is what the prompt asks the model to write.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Set-aside text is marked with private-use characters, which no model writes.
_OUTER, _INNER = ("\ue000", "\ue001"), ("\ue002", "\ue003")

# a fence's closing line stands alone; WhatsApp's ```mono``` closes on a text line
_FENCE = re.compile(r"^[ \t]*(```|~~~)[^`\n]*\n((?:.*?\n)??)[ \t]*\1[ \t]*$", re.M | re.S)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(\s*<?([^()\s<>]+(?:\([^()\s]*\))?)>?(?:\s+\"[^\"]*\")?\s*\)")
_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*<?([^()\s<>]+(?:\([^()\s]*\))?)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:|tel:)[^\s<>]+)>")
_URL = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>\ue000-\ue003]+", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL_TRAILING = ".,;:!?*_~'\"”’»"

_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_RULE = re.compile(r"^[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
# `+ 44 20 ...` is a phone number more often than a bullet
_BULLET = re.compile(r"^([ \t]*)(?:\*[ \t]+(?=\S)|\+[ \t]+(?=[^\d\s]))")
_TABLE_SEPARATOR = re.compile(
    r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$"
)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~>])")
_BLANK_RUNS = re.compile(r"\n{3,}")
_LINE_BREAK = re.compile(r"<br\s*/?>", re.I)

# Emphasis: markers hug the text (no space inside) and do not touch letters or digits
# outside, as both Markdown and WhatsApp require; `snake_case` and 2*3*4 stay as they are.
_OPEN = r"(?<![\w*])"
_CLOSE = r"(?![\w*])"
_BOLD_ITALIC = re.compile(_OPEN + r"\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*" + _CLOSE)
_BOLD_STARS = re.compile(_OPEN + r"\*\*(?=\S)(.+?)(?<=\S)\*\*" + _CLOSE)
_BOLD_UNDERSCORES = re.compile(r"(?<![\w_])__(?=\S)(.+?)(?<=\S)__(?![\w_])")
_ITALIC_STAR = re.compile(_OPEN + r"\*(?=[^\s*])(.+?)(?<=[^\s*])\*" + _CLOSE)
_STRIKE = re.compile(r"(?<![\w~])~~(?=\S)(.+?)(?<=\S)~~(?![\w~])")


class _Slots:
    """Text set aside (code, URLs) while the rest is converted, then put back."""

    def __init__(self, marks: tuple[str, str]) -> None:
        self.texts: list[str] = []
        self.open, self.close = marks
        self.pattern = re.compile(f"{marks[0]}(\\d+){marks[1]}")

    def keep(self, text: str) -> str:
        self.texts.append(text)
        return f"{self.open}{len(self.texts) - 1}{self.close}"

    def restore(self, text: str) -> str:
        while self.pattern.search(text):  # a slot may hold another (a link's text)
            text = self.pattern.sub(lambda m: self.texts[int(m[1])], text)
        return text


def to_whatsapp(text: str) -> str:
    """`text` with Markdown turned into WhatsApp formatting; WhatsApp text stays as it is."""
    slots = _Slots(_OUTER)
    text = _FENCE.sub(lambda m: slots.keep(_monospace(m[2])), text.replace("\r\n", "\n"))
    text = _INLINE_CODE.sub(lambda m: slots.keep(m[0]), text)
    text = _ESCAPE.sub(lambda m: slots.keep(m[1]), text)
    text = _IMAGE.sub(lambda m: slots.keep(m[2]), text)
    text = _LINK.sub(lambda m: _link(m[1], m[2], slots), text)
    text = _AUTOLINK.sub(lambda m: slots.keep(m[1].removeprefix("mailto:")), text)
    text = _URL.sub(lambda m: _keep_url(m[0], slots), text)
    text = _EMAIL.sub(lambda m: slots.keep(m[0]), text)
    markdown_bold = bool(_BOLD_STARS.search(text) or _BOLD_UNDERSCORES.search(text))
    text = _LINE_BREAK.sub("\n", text)
    text = "\n".join(_blocks(text.split("\n")))
    text = _inline(text, markdown_bold)
    return _BLANK_RUNS.sub("\n\n", slots.restore(text)).strip()


def _monospace(code: str) -> str:
    code = code.strip("\n")
    return f"```{code}```" if code.strip() else ""


def _keep_url(url: str, slots: _Slots) -> str:
    """A bare URL, without the sentence's punctuation after it (or an unmatched `)`)."""
    end = len(url)
    while end and (
        url[end - 1] in _URL_TRAILING
        or (url[end - 1] == ")" and url[:end].count("(") < url[:end].count(")"))
    ):
        end -= 1
    return slots.keep(url[:end]) + url[end:]


def _link(label: str, target: str, slots: _Slots) -> str:
    """`[label](target)` -> `label (target)`; just the target when the label is it."""
    kind, _, rest = target.partition(":")
    if kind in ("tel", "mailto"):
        same = _digits(label) == _digits(rest) if kind == "tel" else label.strip() == rest
        return slots.keep(label if same else f"{label} ({rest})")
    if not re.match(r"(?i)https?://|www\.", target):
        return label  # a relative link leads nowhere from a chat
    if _bare(label) == _bare(target):
        return slots.keep(target)
    return f"{label} ({slots.keep(target)})"


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _bare(url: str) -> str:
    url = re.sub(r"(?i)^https?://", "", url.strip().strip("<>"))
    return url.removeprefix("www.").rstrip("/").lower()


def _blocks(lines: list[str]) -> list[str]:
    """Line-level Markdown: tables, headings, rules and bullets."""
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _is_table_start(lines, index):
            end = index + 2
            while end < len(lines) and "|" in lines[end] and lines[end].strip():
                end += 1
            out += _table(lines[index], lines[index + 2 : end])
            index = end
            continue
        heading = _HEADING.match(line)
        if heading:
            title = _BOLD_STARS.sub(r"\1", _BOLD_UNDERSCORES.sub(r"\1", heading[1])).strip("*_ ")
            out.append(f"**{title}**" if title else "")  # made WhatsApp bold with the rest
        elif _RULE.match(line):
            out.append("")
        else:
            out.append(_BULLET.sub(r"\1- ", line).rstrip())
        index += 1
    return out


def _is_table_start(lines: list[str], index: int) -> bool:
    return (
        index + 1 < len(lines)
        and "|" in lines[index]
        and "|" in lines[index + 1]
        and bool(_TABLE_SEPARATOR.match(lines[index + 1]))
    )


def _cells(row: str) -> list[str]:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row)]


def _table(header: str, rows: list[str]) -> list[str]:
    """One line per row, each cell named by its column: `- Size: 42 · Price: €90`."""
    names = _cells(header)
    lines = []
    for row in rows:
        cells = _cells(row)
        pairs = [
            f"{names[i]}: {cell}" if i < len(names) and names[i] else cell
            for i, cell in enumerate(cells)
            if cell
        ]
        if pairs:
            lines.append("- " + " · ".join(pairs))
    return lines


def _inline(text: str, markdown_bold: bool) -> str:
    """Emphasis. Bold is set aside as WhatsApp `*...*` so italics cannot re-read it."""
    slots = _Slots(_INNER)

    def bold(inner: str) -> str:
        return slots.keep(f"*{inner}*")

    rules: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
        (_BOLD_ITALIC, lambda m: bold(f"_{m[1]}_")),
        (_BOLD_STARS, lambda m: bold(m[1])),
        (_BOLD_UNDERSCORES, lambda m: bold(m[1])),
        (_STRIKE, lambda m: f"~{m[1]}~"),
    ]
    if markdown_bold:
        rules.append((_ITALIC_STAR, lambda m: f"_{m[1]}_"))
    for pattern, replace in rules:
        text = pattern.sub(replace, text)
    return slots.restore(text)
