"""The allow-list's vocabulary: which types a listed field can have, and one field's declaration."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select


class FieldType(enum.Enum):
    """What a field holds, which decides the literals and operators a filter may use on it."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"  # a float column
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  # a crm_platform.db.UtcDateTime column: aware UTC datetimes
    ENUM = "enum"  # lower-case string values stored as strings
    DATE = "date"  # a calendar date stored as "YYYY-MM-DD" text, which orders like the dates it holds


STRING = FieldType.STRING
INTEGER = FieldType.INTEGER
NUMBER = FieldType.NUMBER
BOOLEAN = FieldType.BOOLEAN
TIMESTAMP = FieldType.TIMESTAMP
ENUM = FieldType.ENUM
DATE = FieldType.DATE

# What a predicate field's function gets: the operator and the literal as a Python value of the field's
# type (None for `null`); it returns the whole two-valued test (see compiler.py).
Predicate = Callable[[str, Any], ColumnElement[bool]]


def clause_of(column: Any) -> ColumnElement[Any]:
    """The SQL expression behind a mapped attribute (`Contact.email`) or a Core column/expression."""
    element = column.__clause_element__() if hasattr(column, "__clause_element__") else column
    if not isinstance(element, ColumnElement):
        raise TypeError(f"not a column or SQL expression: {column!r}")
    return element


@dataclass(frozen=True)
class Lookup:
    """Where the values of a field kept outside the resource's row are: rows of another table, each
    naming its record (`rows` selects that record id column, already narrowed to this field's rows) and
    holding one value in `value`. A filter on such a field is `key IN (rows WHERE value <op> literal)`,
    so an index over (field, value, record id) serves it, whatever the field."""

    key: Any  # the resource's column the rows point at, e.g. Contact.id
    rows: Select[Any]
    value: Any  # the column of `rows`' table holding the value


@dataclass(frozen=True)
class Field:
    """One allow-listed field: the column (or expression) the API name maps to, and its type.

    `nullable` defaults to what the column declares; for an expression that is not a plain column it
    defaults to True, the safe choice (nullable fields get NULL-aware filters, orders and cursors).

    Three kinds of field besides a plain column (compiler.py says how each compiles):
    - `repeated`: a list of values of `type`; `f:"x"` means "the list holds x" (AIP-160's has), and `=`
      and `!=` compare only with null (an empty list). Without `lookup`, `column` is a JSON array.
    - `lookup`: the values are rows of another table (Lookup); `column` is then what orders by the field
      (e.g. a correlated subquery), and filters go through the lookup's rows.
    - `predicate`: a computed field (e.g. an age from a birth date) whose comparisons the function turns
      into conditions on real columns, so they can use those columns' indexes.
    """

    column: Any  # a mapped attribute, a Column or any SQL expression
    type: FieldType
    enum_values: tuple[str, ...] = ()
    filterable: bool = True
    nullable: bool | None = None
    repeated: bool = False
    lookup: Lookup | None = None
    predicate: Predicate | None = None
    clause: ColumnElement[Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        clause = clause_of(self.column)
        object.__setattr__(self, "clause", clause)
        if self.lookup is not None and self.predicate is not None:
            raise ValueError("a field is either looked up or computed, not both")
        if self.repeated and self.type is not FieldType.STRING:
            raise ValueError("only string fields can be repeated (lists of strings)")
        if self.nullable is None:
            object.__setattr__(self, "nullable", bool(getattr(clause, "nullable", True)))
        values = tuple(self.enum_values)
        object.__setattr__(self, "enum_values", values)
        if self.type is FieldType.ENUM:
            if not values:
                raise ValueError("an enum field needs its enum_values")
            bad = [v for v in values if not isinstance(v, str) or v != v.lower() or not v]
            if bad:
                raise ValueError(f"enum values must be non-empty lower-case strings: {bad}")
        elif values:
            raise ValueError("enum_values only apply to enum fields")
