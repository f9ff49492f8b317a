"""A resource's list contract: which fields a filter may name, which it may order by, and how."""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from crm_platform.errors import InvalidArgument
from crm_platform.listing.fields import Field, FieldType, clause_of
from crm_platform.listing.ordering import OrderKey, parse_order_by

# What the filter tokenizer reads as one word; keywords and literals cannot be field names.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_RESERVED = frozenset({"AND", "OR", "NOT", "true", "false", "null"})


@dataclass(frozen=True, kw_only=True)
class ListSpec:
    """The allow-list of one resource, declared once next to its model:

        ListSpec(
            fields={
                "email": Field(Contact.email, STRING),
                "created_at": Field(Contact.created_at, TIMESTAMP),
            },
            orderable={"created_at"},
            default_order="created_at desc",
            tie_breaker=Contact.id,
        )

    `tie_breaker` (the primary key: NOT NULL, unique, string or integer) is appended to every order in
    the direction of its last key, making the order total, which keyset paging needs to neither skip
    nor repeat rows. `name` (e.g. "contacts") is mixed into every cursor's binding so that a cursor of
    one resource is refused by another.
    """

    fields: Mapping[str, Field]
    tie_breaker: Any
    orderable: Set[str] = frozenset()
    default_order: str = ""
    name: str = ""
    filterable_names: tuple[str, ...] = field(init=False, repr=False)
    default_keys: tuple[OrderKey, ...] = field(init=False, repr=False)
    tie_key: OrderKey = field(init=False, repr=False)

    def __post_init__(self) -> None:
        fields = dict(self.fields)
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "orderable", frozenset(self.orderable))
        for name in fields:
            if not _NAME.fullmatch(name) or name in _RESERVED:
                raise ValueError(f"{name!r} cannot be a field name (an identifier, not a keyword)")
        unknown = sorted(set(self.orderable) - set(fields))
        if unknown:
            raise ValueError(f"orderable names fields that are not in fields: {unknown}")
        unorderable = sorted(n for n in self.orderable if fields[n].repeated or fields[n].predicate)
        if unorderable:
            raise ValueError(f"lists and computed fields have no order of their own: {unorderable}")
        filterable = tuple(sorted(name for name, spec in fields.items() if spec.filterable))
        object.__setattr__(self, "filterable_names", filterable)
        try:
            default = parse_order_by(self.default_order, fields, self.orderable)
        except InvalidArgument as exc:
            raise ValueError(f"default_order: {exc.message}") from None
        object.__setattr__(self, "default_keys", default)
        object.__setattr__(self, "tie_key", OrderKey("", _tie_breaker_field(self.tie_breaker)))

    def order_keys(self, order_by: str) -> tuple[OrderKey, ...]:
        """The total order a request asks for: its order_by (or the default), then the tie-breaker in the
        direction of the last key."""
        keys = parse_order_by(order_by, self.fields, self.orderable) or self.default_keys
        last_descending = keys[-1].descending if keys else False
        return (*keys, OrderKey("", self.tie_key.field, last_descending))


def _tie_breaker_field(column: Any) -> Field:
    clause = clause_of(column)
    if getattr(clause, "nullable", True):
        raise ValueError("the tie-breaker must be a NOT NULL column (the primary key)")
    try:
        python_type = clause.type.python_type
    except NotImplementedError:
        python_type = None
    types = {str: FieldType.STRING, int: FieldType.INTEGER}
    if python_type not in types:
        raise ValueError(f"the tie-breaker must be a string or integer column, not {clause.type}")
    return Field(column, types[python_type], nullable=False)
