"""order_by (AIP-132): `"last_name desc, created_at"` to order keys, and keys to ORDER BY clauses.

NULL is the smallest value of every type, on every backend: first in ascending order, last in
descending order. SQLite does that by default and PostgreSQL the other way round, so nullable keys get
an explicit NULLS FIRST / NULLS LAST (SQLite >= 3.30 understands it); non-nullable keys get none, so
PostgreSQL can still walk an ordinary index for them. The keyset predicate (keyset.py) follows the same
rule, which is what keeps paging correct with NULLs present.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement

from crm_platform.listing import dialects
from crm_platform.listing.fields import Field
from crm_platform.listing.invalid import order_by_error, quoted

MAX_ORDER_BY_LENGTH = 1000  # characters; more than any list of distinct allow-listed fields needs

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class OrderKey:
    name: str  # the API field name; "" for the tie-breaker
    field: Field
    descending: bool = False

    def text(self) -> str:
        return f"{self.name} desc" if self.descending else self.name


def parse_order_by(text: str, fields: Mapping[str, Field], orderable: Set[str]) -> tuple[OrderKey, ...]:
    """The keys `text` lists, in order (an empty text lists none). Raises InvalidArgument (field
    `order_by`) naming the position of the first thing wrong: an unknown or non-orderable field, a
    direction other than asc/desc, a field listed twice, an empty item."""
    if len(text) > MAX_ORDER_BY_LENGTH:
        raise order_by_error(f"is {len(text)} characters long; the limit is {MAX_ORDER_BY_LENGTH}")
    if not text.strip():
        return ()
    keys: list[OrderKey] = []
    offset = 0
    for item in text.split(","):
        words = [(m.group(), offset + m.start()) for m in _WORD.finditer(item)]
        end = offset + len(item)
        offset = end + 1
        if not words:
            raise order_by_error(f"expected a field name at position {end}")
        (name, name_at), rest = words[0], words[1:]
        if name not in orderable or name not in fields:
            raise order_by_error(
                f"cannot order by {quoted(name)} at position {name_at}; orderable fields: "
                f"{', '.join(sorted(orderable))}"
            )
        if any(key.name == name for key in keys):
            raise order_by_error(f"{quoted(name)} is listed twice at position {name_at}")
        descending = False
        if rest:
            direction, direction_at = rest[0]
            if direction.lower() not in ("asc", "desc"):
                raise order_by_error(
                    f'expected "asc" or "desc" after {quoted(name)} at position {direction_at}, '
                    f"found {quoted(direction)}"
                )
            descending = direction.lower() == "desc"
        if len(rest) > 1:
            extra, extra_at = rest[1]
            raise order_by_error(f'expected "," or the end at position {extra_at}, found {quoted(extra)}')
        keys.append(OrderKey(name, fields[name], descending))
    return tuple(keys)


def order_clauses(keys: tuple[OrderKey, ...], dialect: str) -> list[ColumnElement[Any]]:
    """ORDER BY terms for `keys`, NULL smallest (see the module docstring)."""
    clauses: list[ColumnElement[Any]] = []
    for key in keys:
        clause = dialects.sort_key(key.field.clause, key.field.type, dialect)
        if key.descending:
            ordered = clause.desc().nulls_last() if key.field.nullable else clause.desc()
        else:
            ordered = clause.asc().nulls_first() if key.field.nullable else clause.asc()
        clauses.append(ordered)
    return clauses


def order_text(keys: tuple[OrderKey, ...]) -> str:
    """The canonical order_by of `keys` (what cursors are bound to): "a desc,b"."""
    return ",".join(key.text() for key in keys)
