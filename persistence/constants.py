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

from sqlalchemy import BindParameter, ColumnElement, String, bindparam, literal
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.types import TypeEngine

Column = ColumnElement[Any] | QueryableAttribute[Any]


def constant(value: Any, type_: TypeEngine[Any] | None = None) -> BindParameter[Any]:
    """`value` written into the SQL, as `type_` (default: a string) writes it."""
    return literal(value, type_ or String(), literal_execute=True)


def equals(column: Column, value: Any) -> ColumnElement[bool]:
    return column == constant(value, column.type)


def one_of(column: Column, values: Iterable[Any]) -> ColumnElement[bool]:
    return column.in_(_written(column, values))


def none_of(column: Column, values: Iterable[Any]) -> ColumnElement[bool]:
    return column.not_in(_written(column, values))


def _written(column: Column, values: Iterable[Any]) -> BindParameter[Any]:
    return bindparam(None, list(values), type_=column.type, expanding=True, literal_execute=True)
