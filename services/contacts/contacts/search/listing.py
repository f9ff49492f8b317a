"""ListContacts with `q`: the list's scope, filter and cursors, the search's order.

The caller's view is the list's exactly: the query the list starts from (active contacts), the
caller's scope clause and the compiled `filter` decide which of the contacts the index finds are
shown. The cursor is signed like the list's and bound to the query, the filter and the caller's view;
it holds where the last page ended: (tier, term, contact id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from contacts.search.engine import Key, search_page
from contacts.search.index import SearchIndex
from contacts.search.query import parse_query
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading
from crm_platform.errors import InvalidArgument
from crm_platform.listing import plan_listing, query_id
from crm_platform.listing.invalid import CURSOR_NOT_OURS, cursor_error
from crm_platform.pagination import clamp_limit
from crm_platform.resources import StandardMethods


class ContactSearch:
    def __init__(self, methods: StandardMethods[Any, Any], index: SearchIndex, region: str) -> None:
        self.methods = methods
        self.index = index
        self.region = region

    def list(self, request: Any) -> dict[str, Any]:
        """`items` and `next_cursor` of a ListContactsRequest with `q`."""
        if request.order_by:
            raise InvalidArgument(
                "order_by cannot be combined with q", {"order_by": "must be empty with q: results are ranked"}
            )
        query = parse_query(request.q, self.region)
        caller = current_caller_or_none()
        asked = self.methods.list_request(request)
        codec = self.methods.cursor_codec()
        repository = self.methods.repository
        with reading(self.methods.sessions) as session:
            spec = self.methods.spec_for(session, asked)
            dialect = session.get_bind().dialect.name
            # The list's own plan, for the filter and the view a cursor is bound to.
            plan = plan_listing(spec, replace(asked, cursor=""), codec, dialect)
            bound_to = query_id("contacts:search", query.canonical, plan.query_id.hex())
            after = _key(codec.decode(request.cursor, bound_to)) if request.cursor else None

            def visible(ids: Sequence[str]) -> dict[str, Any]:
                shown = self.methods.listed().where(repository.model.id.in_(ids))
                if plan.where is not None:
                    shown = shown.where(plan.where)
                return {row.id: row for row in session.scalars(repository.scoped(shown, caller))}

            rows, next_key = search_page(
                session,
                self.index.tables.terms,
                query,
                visible=visible,
                corrections=lambda words: self.index.corrections(session, words),
                after=after,
                limit=clamp_limit(request.limit),
            )
            return {
                "items": [repository.to_message(row) for row in rows],
                "next_cursor": codec.encode(bound_to, list(next_key)) if next_key is not None else "",
            }


def _key(payload: Any) -> Key:
    """A cursor's payload as a key; signed by us, so only a cursor of another version can fail this."""
    if (
        isinstance(payload, list)
        and len(payload) == 3
        and type(payload[0]) is int
        and payload[0] in (0, 1, 2)
        and all(isinstance(part, str) for part in payload[1:])
    ):
        return (payload[0], payload[1], payload[2])
    raise cursor_error(CURSOR_NOT_OURS)
