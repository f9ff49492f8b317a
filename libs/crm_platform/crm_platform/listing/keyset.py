"""Keyset paging: the sort key of a row as JSON for a cursor, and "rows strictly after this key".

The "after" predicate for keys k1..kn is the expanded OR-of-ANDs

    (k1 beyond v1) OR (k1 = v1 AND k2 beyond v2) OR ... OR (k1 = v1 AND ... AND kn beyond vn)

where "beyond" is > for an ascending key and < for a descending one. A row-value comparison
`(k1, k2) > (v1, v2)` would be shorter but only works when every key has the same direction, and
NULL breaks it. NULL is the smallest value (ordering.py), so for a nullable key:

    ascending,  v not NULL: k > v                 v NULL: k IS NOT NULL
    descending, v not NULL: k < v OR k IS NULL    v NULL: nothing is beyond
    equal,      v not NULL: k = v                 v NULL: k IS NULL
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, literal, or_

from crm_platform.listing import dialects
from crm_platform.listing.fields import FieldType
from crm_platform.listing.ordering import OrderKey


def after_key(keys: Sequence[OrderKey], values: Sequence[Any], dialect: str) -> ColumnElement[bool]:
    """Rows that come strictly after the row whose sort key is `values`, in the order of `keys`."""
    alternatives: list[ColumnElement[bool]] = []
    equal_so_far: list[ColumnElement[bool]] = []
    for key, value in zip(keys, values, strict=True):
        clause = key.field.clause
        # Bound with the column's type: it converts timestamps, and `active > True` is not allowed.
        bound = None if value is None else literal(value, clause.type)
        alternatives.append(and_(*equal_so_far, _beyond(key, bound, dialect)))
        equal_so_far.append(clause.is_(None) if bound is None else clause == bound)
    return and_(*_start(keys[0], values[0], dialect), or_(*alternatives))


def _start(key: OrderKey, value: Any, dialect: str) -> list[ColumnElement[bool]]:
    """What the OR above implies of the first key, as a range an index can start from (`k1 >= v1`):
    neither planner derives it from the OR, so without it a deep page read the index from its start
    (PostgreSQL) and cost the depth of the page. None where NULLs come after the value."""
    if value is None or (key.descending and key.field.nullable):
        return []
    sortable = dialects.sort_key(key.field.clause, key.field.type, dialect)
    bound = literal(value, key.field.clause.type)
    return [sortable <= bound if key.descending else sortable >= bound]


def _beyond(key: OrderKey, bound: ColumnElement[Any] | None, dialect: str) -> ColumnElement[bool]:
    clause = key.field.clause
    if bound is None:
        return false() if key.descending else clause.is_not(None)
    sortable = dialects.sort_key(clause, key.field.type, dialect)
    if not key.descending:
        return sortable > bound
    return or_(sortable < bound, clause.is_(None)) if key.field.nullable else sortable < bound


def encode_values(keys: Sequence[OrderKey], values: Sequence[Any]) -> list[Any]:
    """A row's sort-key values as JSON values (timestamps as ISO 8601 strings)."""
    return [
        value.isoformat() if key.field.type is FieldType.TIMESTAMP and value is not None else value
        for key, value in zip(keys, values, strict=True)
    ]


def decode_values(keys: Sequence[OrderKey], raw: Any) -> list[Any]:
    """The inverse of `encode_values`; ValueError when `raw` does not fit `keys` (a cursor of another
    version of the code: its signature was valid, so it is ours, but it cannot be used)."""
    if not isinstance(raw, list) or len(raw) != len(keys):
        raise ValueError("wrong number of key values")
    return [_decode(key, value) for key, value in zip(keys, raw, strict=True)]


_JSON_TYPES: dict[FieldType, tuple[type, ...]] = {
    FieldType.STRING: (str,),
    FieldType.ENUM: (str,),
    FieldType.INTEGER: (int,),
    FieldType.NUMBER: (int, float),
    FieldType.BOOLEAN: (bool,),
    FieldType.TIMESTAMP: (str,),
    FieldType.DATE: (str,),
}


def _decode(key: OrderKey, value: Any) -> Any:
    if value is None:
        if not key.field.nullable:
            raise ValueError("NULL for a NOT NULL key")
        return None
    kind = key.field.type
    # bool is an int in Python: keep true/false out of integer and number keys.
    is_bool = isinstance(value, bool)
    if not isinstance(value, _JSON_TYPES[kind]) or (is_bool and kind is not FieldType.BOOLEAN):
        raise ValueError(f"{value!r} does not fit a {kind.value} key")
    if kind is FieldType.TIMESTAMP:
        return datetime.fromisoformat(value)
    if kind is FieldType.NUMBER:
        return float(value)
    return value
