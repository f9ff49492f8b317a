"""The allow-list's vocabulary: which types a listed field can have, and one field's declaration."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement


class FieldType(enum.Enum):
    """What a field holds, which decides the literals and operators a filter may use on it."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"  # a float column
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  # a crm_platform.db.UtcDateTime column: aware UTC datetimes
    ENUM = "enum"  # lower-case string values stored as strings


STRING = FieldType.STRING
INTEGER = FieldType.INTEGER
NUMBER = FieldType.NUMBER
BOOLEAN = FieldType.BOOLEAN
TIMESTAMP = FieldType.TIMESTAMP
ENUM = FieldType.ENUM


def clause_of(column: Any) -> ColumnElement[Any]:
    """The SQL expression behind a mapped attribute (`Contact.email`) or a Core column/expression."""
    element = column.__clause_element__() if hasattr(column, "__clause_element__") else column
    if not isinstance(element, ColumnElement):
        raise TypeError(f"not a column or SQL expression: {column!r}")
    return element


@dataclass(frozen=True)
class Field:
    """One allow-listed field: the column (or expression) the API name maps to, and its type.

    `nullable` defaults to what the column declares; for an expression that is not a plain column it
    defaults to True, the safe choice (nullable fields get NULL-aware filters, orders and cursors).
    """

    column: Any  # a mapped attribute, a Column or any SQL expression
    type: FieldType
    enum_values: tuple[str, ...] = ()
    filterable: bool = True
    nullable: bool | None = None
    clause: ColumnElement[Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        clause = clause_of(self.column)
        object.__setattr__(self, "clause", clause)
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
