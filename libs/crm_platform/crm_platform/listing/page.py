"""The one entry point a service's List RPC calls: filter, order, paginate a select over a resource.

    page = list_page(session, select(Contact).where(Contact.owner_id == owner), CONTACTS, request, codec)

The caller's select carries what the caller may see (scope, tenancy, soft deletes); this module adds the
caller's filter, the order, the keyset predicate and the limit, and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session

from crm_platform.listing.compiler import compile_node, normalise
from crm_platform.listing.cursor import CursorCodec, query_id
from crm_platform.listing.invalid import CURSOR_NOT_OURS, cursor_error
from crm_platform.listing.keyset import after_key, decode_values, encode_values
from crm_platform.listing.ordering import OrderKey, order_clauses, order_text
from crm_platform.listing.parser import parse_filter
from crm_platform.listing.spec import ListSpec
from crm_platform.listing.syntax import to_text
from crm_platform.pagination import Page, clamp_limit

# Labels of the sort-key columns added to the caller's select; unlikely to clash with the caller's.
_KEY_LABEL = "_listing_key_{}"


@dataclass(frozen=True)
class ListRequest:
    """The list parameters of AIP-132/158/160 as the request carries them; "" and 0 mean "not given"."""

    filter: str = ""
    order_by: str = ""
    cursor: str = ""
    limit: int = 0  # 0: the default page size (50); otherwise 1..200
    # Who is asking (their scope), so a cursor minted for one caller is refused for another: its key
    # came from rows the first caller may see.
    caller: str = ""


@dataclass(frozen=True)
class ListPlan:
    """A validated request, compiled for one dialect: everything but the database round trip."""

    where: ColumnElement[bool] | None
    keys: tuple[OrderKey, ...]  # the full order, tie-breaker last
    order_by: list[ColumnElement[Any]]
    after: ColumnElement[bool] | None  # rows after the cursor's key; None on the first page
    limit: int
    query_id: bytes  # what the next cursor is bound to

    def apply(self, query: Select[Any]) -> Select[Any]:
        """`query` narrowed by the filter and cursor, ordered, with the sort keys as extra columns, and
        limited to one row more than a page (that row only tells whether there is a next page)."""
        if self.where is not None:
            query = query.where(self.where)
        if self.after is not None:
            query = query.where(self.after)
        labelled = [key.field.clause.label(_KEY_LABEL.format(i)) for i, key in enumerate(self.keys)]
        return query.add_columns(*labelled).order_by(None).order_by(*self.order_by).limit(self.limit + 1)

    def page(self, rows: Sequence[Any], width: int, codec: CursorCodec) -> Page[Any]:
        """The page of the rows `apply`'s query returned; `width` is how many columns the caller's own
        select had (one entity: items are the entities; several: tuples)."""
        items = [row[0] if width == 1 else tuple(row[:width]) for row in rows[: self.limit]]
        if len(rows) <= self.limit:
            return Page(items, "")
        last = rows[self.limit - 1]
        payload = encode_values(self.keys, [last[width + i] for i in range(len(self.keys))])
        return Page(items, codec.encode(self.query_id, payload))


def plan_listing(spec: ListSpec, request: ListRequest, codec: CursorCodec, dialect: str) -> ListPlan:
    """Parse and check every part of `request` (InvalidArgument naming the bad one) and compile it."""
    limit = clamp_limit(request.limit)
    node = parse_filter(request.filter)
    where = None if node is None else compile_node(node, spec, dialect)
    keys = spec.order_keys(request.order_by)
    canonical = "" if node is None else to_text(normalise(node, spec))
    bound_to = query_id(spec.name, canonical, order_text(keys[:-1]), request.caller)
    after = None
    if request.cursor:
        payload = codec.decode(request.cursor, bound_to)
        try:
            values = decode_values(keys, payload)
        except ValueError:
            raise cursor_error(CURSOR_NOT_OURS) from None
        after = after_key(keys, values, dialect)
    return ListPlan(where, keys, order_clauses(keys, dialect), after, limit, bound_to)


def list_page(
    session: Session, query: Select[Any], spec: ListSpec, request: ListRequest, codec: CursorCodec
) -> Page[Any]:
    """One page of `query`'s rows matching `request.filter`, in `request.order_by` order (the spec's
    default when empty), after `request.cursor`; `Page.next_cursor` is "" on the last page."""
    plan = plan_listing(spec, request, codec, session.get_bind().dialect.name)
    width = len(query.column_descriptions)  # an ORM entity is one column here, not one per attribute
    rows = session.execute(plan.apply(query)).all()
    return plan.page(rows, width, codec)
