"""One page of an identity list, the same for every collection: the query string checked, the signed
cursor decoded, the keyset query run and answered with the next page's cursor. A list route adds only
its own filters between `page_request` and `page_answer`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Response
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from crm_platform.db import reading
from gateway.identity.paging import binding_of, keyset, limit_of, position_of, query_args
from gateway.identity.routes.common import listing
from gateway.identity.runtime import identity


@dataclass(frozen=True)
class PageRequest:
    args: dict[str, str]
    limit: int
    binding: str
    after: list[Any] | None


def page_request(caller: str, collection: str, filters: Iterable[str]) -> PageRequest:
    """The query string (`filters`, limit and cursor) checked, and the cursor decoded against the binding
    of caller, collection and filters; run before the route checks its filters' values, so a bad query
    string or cursor is reported first."""
    args = query_args(filters)
    limit = limit_of(args)
    binding = binding_of(caller, collection, args)
    after = identity().cursors.decode(args["cursor"], binding) if "cursor" in args else None
    return PageRequest(args, limit, binding, after)


def page_answer(
    page: PageRequest,
    stmt: Select[Any],
    sort: InstrumentedAttribute[Any],
    tie: InstrumentedAttribute[Any],
    out: Callable[[Session, Any], BaseModel],
    list_model: type[BaseModel],
    *,
    descending: bool = False,
) -> Response:
    """Runs `stmt` ordered by (sort, tie) from the cursor's position, one row more than the limit to learn
    whether a next page exists; `out` turns each row into its model while the session is open."""
    runtime = identity()
    stmt = keyset(stmt, sort, tie, page.after, descending).limit(page.limit + 1)
    with reading(runtime.sessions) as session:
        rows = list(session.scalars(stmt))
        items = [out(session, row) for row in rows[: page.limit]]
    next_cursor = None
    if len(rows) > page.limit:
        last = rows[page.limit - 1]
        position = position_of(getattr(last, sort.key), getattr(last, tie.key))
        next_cursor = runtime.cursors.encode(position, page.binding)
    return listing(items, next_cursor, list_model)
