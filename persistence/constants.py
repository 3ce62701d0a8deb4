"""Fixed values written into a statement's SQL rather than bound as parameters.

psycopg prepares a statement on a connection after its fifth run, and PostgreSQL then
plans a prepared statement once for any parameters whenever that generic plan looks no
dearer than the custom ones: in it a bound value is unknown. A partial index whose
predicate names fixed values (`WHERE author IN ('operator', ...)`, `direction = 'in'`)
cannot be proved to apply then, and the read walks every message of the conversation by
another index instead. A fixed value written as a literal keeps such an index usable in
every plan. Only for values the code fixes (enum members, keys), never for input.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, String, literal_column
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.types import TypeEngine

Column = ColumnElement[Any] | QueryableAttribute[Any]

# Literals are rendered when the statement is built, so they are part of its cached SQL:
# a bound parameter rendered at execution (`literal_execute`) made SQLAlchemy rewrite the
# whole statement's text on every run (65 us for the turn's start statement).
_DIALECT = postgresql.dialect()


def constant(value: Any, type_: TypeEngine[Any] | None = None) -> ColumnElement[Any]:
    """`value` written into the SQL, as `type_` (default: a string) writes it."""
    type_ = type_ or String()
    render = type_.literal_processor(_DIALECT)
    if render is None:
        raise TypeError(f"{type_!r} cannot write {value!r} as a literal")
    return literal_column(render(value), type_)


def equals(column: Column, value: Any) -> ColumnElement[bool]:
    return column == constant(value, column.type)


def one_of(column: Column, values: Iterable[Any]) -> ColumnElement[bool]:
    return column.in_(_written(column, values))


def none_of(column: Column, values: Iterable[Any]) -> ColumnElement[bool]:
    return column.not_in(_written(column, values))


def _written(column: Column, values: Iterable[Any]) -> list[ColumnElement[Any]]:
    return [constant(value, column.type) for value in values]
