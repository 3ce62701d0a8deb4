"""Message templates for the Graph API simulator: the WhatsApp Business Account's
`message_templates` edge (create, list) and the checks Meta makes when one is sent.

- POST /{waba-id}/message_templates validates like Meta's review intake (name, category,
  one BODY of at most 1024 characters, placeholders {{1}}..{{n}} in order, not at the start
  or end, not side by side, `example.body_text` with n samples) and answers
  {"id", "status", "category"}; the same name and language again answers error 100 with
  subcode 2388024 ("Content in This Language Already Exists"). New templates get
  `status_on_create`: PENDING in tests (review is scripted with `set_status`), APPROVED in
  the sandbox (it has no review queue).
- GET /{waba-id}/message_templates answers {"data": [...], "paging": {...}} with cursors;
  `name` matches as a substring (as Meta's filter does not promise an exact match).
- Sends: body parameters must be non-empty text without newline, tab or more than four
  consecutive spaces (132018). A template the store knows (created or `add`ed) must be
  APPROVED in that language (132001) and get its number of parameters (132000) within
  1024 characters once filled (132005); unknown templates are refused only when `strict`.

Templates live in a `TemplateRecords`: a list in memory for tests, Redis for the sandbox.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from channels.simulators.graph_wire import GraphError, new_media_id, require

NAME = re.compile(r"[a-z0-9_]{1,512}")
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
CATEGORIES = ("AUTHENTICATION", "MARKETING", "UTILITY")
BODY_LIMIT = 1024
EXISTS_SUBCODE = 2388024
_BAD_PARAM = re.compile(r"[\n\t]| {5,}")
_LANGUAGE_NAMES = {
    "en": "English",
    "en_US": "English (US)",
    "es": "Spanish",
    "fr": "French",
    "pt_BR": "Portuguese (BR)",
    "pt_PT": "Portuguese (POR)",
}


@dataclass
class StoredTemplate:
    waba_id: str
    id: str
    name: str
    language: str
    category: str
    status: str
    components: list[dict[str, Any]]
    rejected_reason: str = "NONE"
    parameter_format: str = "POSITIONAL"
    body: str = field(init=False, default="")

    def __post_init__(self) -> None:
        body = next((c for c in self.components if str(c.get("type")).upper() == "BODY"), {})
        self.body = str(body.get("text") or "")

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "parameter_format": self.parameter_format,
            "components": self.components,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "rejected_reason": self.rejected_reason,
            "id": self.id,
        }

    def record(self) -> dict[str, Any]:
        """Everything needed to rebuild it (`StoredTemplate.from_record`)."""
        data = dataclasses.asdict(self)
        del data["body"]
        return data

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> StoredTemplate:
        return cls(**data)


class TemplateRecords(Protocol):
    def all(self) -> list[StoredTemplate]:
        """Every business account's templates, in a stable order."""

    def insert(self, template: StoredTemplate) -> bool:
        """Keep a new template; False when its account has the name in that language."""

    def save(self, template: StoredTemplate) -> None: ...

    def clear(self) -> None: ...


class MemoryTemplates:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._templates: list[StoredTemplate] = []

    def all(self) -> list[StoredTemplate]:
        with self._lock:
            return list(self._templates)

    def insert(self, template: StoredTemplate) -> bool:
        with self._lock:
            if any(_same(t, template) for t in self._templates):
                return False
            self._templates.append(template)
            return True

    def save(self, template: StoredTemplate) -> None:
        with self._lock:
            self._templates = [template if _same(t, template) else t for t in self._templates]

    def clear(self) -> None:
        with self._lock:
            self._templates.clear()


def _same(a: StoredTemplate, b: StoredTemplate) -> bool:
    return (a.waba_id, a.name, a.language) == (b.waba_id, b.name, b.language)


class TemplateStore:
    def __init__(
        self,
        records: TemplateRecords | None = None,
        *,
        status_on_create: str = "PENDING",
        strict: bool = False,
    ) -> None:
        self.records: TemplateRecords = records if records is not None else MemoryTemplates()
        self._defaults = (status_on_create, strict)
        self.status_on_create, self.strict = self._defaults

    def reset(self) -> None:
        self.records.clear()
        self.status_on_create, self.strict = self._defaults

    # Scripting

    def add(
        self,
        waba_id: str,
        name: str,
        language: str,
        body: str,
        *,
        status: str = "APPROVED",
        category: str = "UTILITY",
        extra: list[dict[str, Any]] | None = None,
        parameter_format: str = "POSITIONAL",
    ) -> StoredTemplate:
        """A template as if created in WhatsApp Manager; `extra`: its HEADER, FOOTER or
        BUTTONS components besides the body."""
        components = [{"type": "BODY", "text": body}, *(extra or [])]
        stored = StoredTemplate(
            waba_id=waba_id, id=new_media_id(), name=name, language=language,
            category=category, status=status, components=components,
            parameter_format=parameter_format,
        )  # fmt: skip
        assert self.records.insert(stored), f"{name} ({language}) already exists"
        return stored

    def set_status(
        self, name: str, language: str, status: str, *, reason: str = "NONE"
    ) -> StoredTemplate:
        stored = self.get(name, language)
        assert stored is not None, f"no template {name} ({language})"
        stored.status, stored.rejected_reason = status, reason
        self.records.save(stored)
        return stored

    def get(self, name: str, language: str) -> StoredTemplate | None:
        return next(
            (t for t in self.records.all() if t.name == name and t.language == language), None
        )

    # Wire

    def create(self, waba_id: str, body: object) -> dict[str, Any]:
        require(isinstance(body, dict), "request body must be a JSON object")
        assert isinstance(body, dict)
        name, language = body.get("name"), body.get("language")
        category, components = body.get("category"), body.get("components")
        require(
            isinstance(name, str) and NAME.fullmatch(name) is not None,
            "name must be lowercase letters, digits and underscores (at most 512)",
        )
        require(isinstance(language, str) and bool(language), "language is required")
        require(category in CATEGORIES, f"category must be one of {', '.join(CATEGORIES)}")
        require(
            isinstance(components, list) and all(isinstance(c, dict) for c in components),
            "components must be a list of objects",
        )
        # checked above; the asserts tell the type checker what `require` established
        assert isinstance(name, str) and isinstance(language, str)
        assert isinstance(category, str) and isinstance(components, list)
        _check_body(components)
        stored = StoredTemplate(
            waba_id=waba_id, id=new_media_id(), name=name, language=language,
            category=category, status=self.status_on_create, components=components,
        )  # fmt: skip
        if not self.records.insert(stored):
            raise _exists(language)
        return {"id": stored.id, "status": stored.status, "category": stored.category}

    def list(self, waba_id: str, query: dict[str, list[str]], url: str) -> dict[str, Any]:
        name = _first(query, "name")
        fields = [f for f in (_first(query, "fields") or "").split(",") if f]
        limit = max(1, min(int(_first(query, "limit") or 25), 1000))
        start = _decode_cursor(_first(query, "after"))
        matching = [
            t for t in self.records.all() if t.waba_id == waba_id and (not name or name in t.name)
        ]
        page = matching[start : start + limit]
        answer: dict[str, Any] = {"data": [_only(t.as_json(), fields) for t in page]}
        if page:
            before, after = _cursor(start), _cursor(start + len(page))
            answer["paging"] = {"cursors": {"before": before, "after": after}}
            if start + len(page) < len(matching):
                params = {k: v[0] for k, v in query.items() if v and k != "before"}
                answer["paging"]["next"] = f"{url}?{urlencode({**params, 'after': after})}"
        return answer

    def check_send(self, content: dict[str, Any]) -> None:
        """Raise the Graph error Meta answers for this (well-formed) template object, if any."""
        parameters = _body_parameters(content.get("components"))
        name, language = content["name"], content["language"]["code"]
        templates = self.records.all()
        stored = next((t for t in templates if t.name == name and t.language == language), None)
        known_name = any(t.name == name for t in templates)
        if (stored is None and (self.strict or known_name)) or (
            stored is not None and stored.status != "APPROVED"
        ):
            raise GraphError(132001, details=f"template name ({name}) does not exist in {language}")
        if stored is not None:
            _check_fill(stored.body, parameters)
            _check_extras(stored.components, content.get("components") or [])


def _check_body(components: list[dict[str, Any]]) -> None:
    bodies = [c for c in components if str(c.get("type")).upper() == "BODY"]
    require(len(bodies) == 1, "exactly one BODY component is required")
    text = bodies[0].get("text")
    require(isinstance(text, str) and bool(text.strip()), "BODY text is required")
    assert isinstance(text, str)
    require(len(text) <= BODY_LIMIT, f"BODY text must be at most {BODY_LIMIT} characters")
    numbers = [int(n) for n in PLACEHOLDER.findall(text)]
    require(
        sorted(set(numbers)) == list(range(1, len(set(numbers)) + 1)),
        "variables must be sequential: {{1}}, {{2}}...",
    )
    stripped = text.strip()
    if PLACEHOLDER.match(stripped) or re.search(r"\{\{\d+\}\}$", stripped):
        raise GraphError(
            100,
            message="Invalid parameter",
            user_title="Variables can't be at the start or end",
            user_msg="Variables can't be at the start or end of the template.",
        )
    if re.search(r"\}\}\s*\{\{", text):
        raise GraphError(
            100,
            message="Invalid parameter",
            user_title="Variables can't be next to each other",
            user_msg="Add text between the variables of the template.",
        )
    if numbers:
        example = bodies[0].get("example")
        samples = example.get("body_text") if isinstance(example, dict) else None
        valid = isinstance(samples, list) and len(samples) == 1 and isinstance(samples[0], list)
        require(
            valid
            and len(samples[0]) == len(set(numbers))  # type: ignore[index]
            and all(isinstance(s, str) and s for s in samples[0]),  # type: ignore[index]
            "example.body_text must hold one sample for each variable",
        )


def _body_parameters(components: list[dict[str, Any]] | None) -> list[str]:
    texts: list[str] = []
    for component in components or []:
        if component["type"].lower() != "body":
            continue
        for parameter in component.get("parameters") or []:
            require(
                parameter.get("type") == "text" and isinstance(parameter.get("text"), str),
                "body parameters must be {type: text, text: string}",
            )
            text = parameter["text"]
            if not text.strip() or _BAD_PARAM.search(text):
                raise GraphError(
                    132018,
                    details="Param text cannot have new-line/tab characters or more "
                    "than 4 consecutive spaces",
                )
            texts.append(text)
    return texts


def _check_fill(body: str, parameters: list[str]) -> None:
    expected = len(set(PLACEHOLDER.findall(body)))
    if len(parameters) != expected:
        raise GraphError(
            132000,
            details=f"body: number of localizable_params ({len(parameters)}) does "
            f"not match the expected number of params ({expected})",
        )
    filled = PLACEHOLDER.sub(lambda m: parameters[int(m.group(1)) - 1], body)
    if len(filled) > BODY_LIMIT:
        raise GraphError(132005, details="Translated text is too long.")


def _check_extras(stored: list[dict[str, Any]], sent: list[dict[str, Any]]) -> None:
    """A text header's {{1}} and quick-reply payloads: as many as the template has (132000)."""
    header = next((c for c in stored if str(c.get("type")).upper() == "HEADER"), {})
    expected = len(set(PLACEHOLDER.findall(str(header.get("text") or ""))))
    given = sum(len(c.get("parameters") or []) for c in sent if c.get("type") == "header")
    if given != expected:
        raise GraphError(
            132000,
            details=f"header: number of localizable_params ({given}) does not match the "
            f"expected number of params ({expected})",
        )
    buttons = next((c for c in stored if str(c.get("type")).upper() == "BUTTONS"), {})
    kinds = [str(b.get("type")).upper() for b in buttons.get("buttons") or []]
    for component in sent:
        if component.get("type") != "button":
            continue
        index = int(component.get("index", -1))
        if not 0 <= index < len(kinds) or kinds[index] != str(component.get("sub_type")).upper():
            raise GraphError(
                132000,
                details=f"button at index {index}: the template has no such "
                f"{component.get('sub_type')} button",
            )


def _exists(language: str) -> GraphError:
    name = _LANGUAGE_NAMES.get(language, language)
    return GraphError(
        100,
        message="Invalid parameter",
        subcode=EXISTS_SUBCODE,
        user_title="Content in This Language Already Exists",
        user_msg=f"There is already {name} content for this template. You can create a new "
        "template and try again.",
    )


def _first(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key) or []
    return values[0] if values else None


def _only(data: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    if not fields:
        return data
    return {key: value for key, value in data.items() if key in fields or key == "id"}


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(str(index).encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except ValueError:
        return 0
