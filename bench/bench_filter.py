"""CPU cost of the list conventions (crm_platform.listing) per request, without a database.

Every List RPC of every service parses and compiles its filter and order_by and decodes, then encodes, a
cursor, on the request thread. This measures those steps in microseconds per operation for a small, a
typical and the worst allowed filter (at the length, depth and comparison limits), so that the cost of
the limits is a known number rather than a guess:

- parse: text -> AST (tokenizer + recursive-descent parser);
- parse + compile: text -> SQLAlchemy expression over the allow-list, per dialect (what list_page does);
- render SQL: the expression to SQL text, which SQLAlchemy does when its statement cache misses (a new
  filter shape); a repeated shape reuses the cached SQL with new bound values;
- order_by, cursor encode/decode, and a whole plan_listing (everything list_page does but the query).

Run: `.venv/bin/python bench/bench_filter.py` (a minute or two). Figures: process CPU time, best of
REPEATS timing runs, each long enough (>= 0.4 s) for the clock's resolution not to matter.
"""

from __future__ import annotations

import os
import sys
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crm_platform.db import UtcDateTime
from crm_platform.listing import (
    BOOLEAN,
    ENUM,
    INTEGER,
    MAX_DEPTH,
    MAX_FILTER_LENGTH,
    MAX_TERMS,
    NUMBER,
    STRING,
    TIMESTAMP,
    CursorCodec,
    Field,
    ListRequest,
    ListSpec,
    compile_filter,
    parse_filter,
    plan_listing,
)
from crm_platform.listing.keyset import after_key, decode_values, encode_values
from crm_platform.listing.ordering import order_clauses

REPEATS = 5


class Base(DeclarativeBase):
    pass


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    company: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    score: Mapped[int | None]
    revenue: Mapped[float | None]
    active: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


SPEC = ListSpec(
    name="contacts",
    fields={
        "first_name": Field(Contact.first_name, STRING),
        "last_name": Field(Contact.last_name, STRING),
        "email": Field(Contact.email, STRING),
        "company": Field(Contact.company, STRING),
        "kind": Field(Contact.kind, ENUM, enum_values=("person", "company")),
        "score": Field(Contact.score, INTEGER),
        "revenue": Field(Contact.revenue, NUMBER),
        "active": Field(Contact.active, BOOLEAN),
        "created_at": Field(Contact.created_at, TIMESTAMP),
        "updated_at": Field(Contact.updated_at, TIMESTAMP),
    },
    orderable={"first_name", "last_name", "company", "score", "created_at", "updated_at"},
    default_order="created_at",
    tie_breaker=Contact.id,
)
CODEC = CursorCodec(b"bench-cursor-secret-of-32-bytes!")

SMALL = 'email = "ada@example.com"'
TYPICAL = (
    'kind = person AND created_at >= "2026-01-01T00:00:00Z" '
    'AND (last_name : "love" OR email = "*@example.com") AND score > 3'
)


def worst_case() -> str:
    """A filter at every limit at once: MAX_DEPTH nested parentheses, MAX_TERMS comparisons of every
    type and operator, padded with a long string literal to MAX_FILTER_LENGTH characters."""
    terms = [
        'first_name = "A*"',
        'last_name : "lo"',
        "company != null",
        "kind = company",
        "score >= -5",
        "revenue < 1.5e6",
        "active = true",
        'created_at > "2026-01-01T00:00:00+02:00"',
        'updated_at <= "2026-06-30T12:00:00.123456Z"',
        'email = "*@example.com"',
    ]
    comparisons = [terms[i % len(terms)] for i in range(MAX_TERMS)]
    # The first MAX_DEPTH comparisons each open a level: a AND (b OR (c AND (d ...))).
    text = ""
    for i, term in enumerate(comparisons[:MAX_DEPTH]):
        text += f"{term} {'AND' if i % 2 else 'OR'} ("
    text += " ".join(comparisons[MAX_DEPTH:-1])
    padding = MAX_FILTER_LENGTH - len(text) - MAX_DEPTH - len(' first_name != ""')
    text += f' first_name != "{"x" * padding}"' + ")" * MAX_DEPTH
    assert len(text) == MAX_FILTER_LENGTH, len(text)
    return text


WORST = worst_case()


def per_op_us(fn: Callable[[], Any]) -> float:
    """Best-of-REPEATS microseconds of this process's CPU time per call of `fn`. CPU time rather than
    wall-clock time: on a shared machine, wall-clock time also counts waiting for a CPU."""
    timer = timeit.Timer(fn, timer=time.process_time)
    number, _ = timer.autorange()
    number = max(number, 1) * 2  # autorange stops at >= 0.2 s; double it for steadier figures
    return min(timer.repeat(REPEATS, number)) / number * 1e6


def render(text: str, dialect: Any) -> str:
    where = compile_filter(text, SPEC, dialect.name)
    return str(where.compile(dialect=dialect)) if where is not None else ""


def operations() -> list[tuple[str, Callable[[], Any]]]:
    """What to time: (label, a call doing one operation)."""
    pg = postgresql.dialect()
    ops: list[tuple[str, Callable[[], Any]]] = []
    for name, text in (("small", SMALL), ("typical", TYPICAL), ("worst allowed", WORST)):
        ops += [
            (f"filter {name}: parse", lambda t=text: parse_filter(t)),
            (f"filter {name}: parse + compile (sqlite)", lambda t=text: compile_filter(t, SPEC, "sqlite")),
            (
                f"filter {name}: parse + compile (postgresql)",
                lambda t=text: compile_filter(t, SPEC, "postgresql"),
            ),
            (f"filter {name}: ... + render SQL (postgresql)", lambda t=text: render(t, pg)),
        ]
    order_by = "last_name desc, created_at"
    ops.append(
        ("order_by: parse + ORDER BY clauses", lambda: order_clauses(SPEC.order_keys(order_by), "postgresql"))
    )

    request = ListRequest(filter=TYPICAL, order_by=order_by, limit=50)
    plan = plan_listing(SPEC, request, CODEC, "postgresql")
    payload = encode_values(plan.keys, ["Lovelace", datetime(2026, 3, 1, 12, tzinfo=UTC), "7f1c0c2e-uuid"])
    cursor = CODEC.encode(plan.query_id, payload)
    with_cursor = ListRequest(request.filter, request.order_by, cursor, request.limit)

    def keyset() -> Any:
        return after_key(
            plan.keys, decode_values(plan.keys, CODEC.decode(cursor, plan.query_id)), "postgresql"
        )

    ops += [
        ("cursor: encode (sign)", lambda: CODEC.encode(plan.query_id, payload)),
        ("cursor: decode (verify)", lambda: CODEC.decode(cursor, plan.query_id)),
        ("cursor: decode + keyset predicate", keyset),
        (
            "plan_listing: typical filter + order_by + cursor",
            lambda: plan_listing(SPEC, with_cursor, CODEC, "postgresql"),
        ),
    ]
    return ops


def main() -> None:
    parse_filter(WORST)  # fails loudly if the worst case is not allowed after all
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"crm_platform.listing, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}"
    )
    print(f"worst allowed filter: {len(WORST)} chars, {MAX_TERMS} comparisons, {MAX_DEPTH} levels deep")
    ops = operations()
    width = max(len(label) for label, _ in ops)
    print(f"{'operation':<{width}}  {'µs/op':>9}", flush=True)
    for label, call in ops:
        print(f"{label:<{width}}  {per_op_us(call):9.1f}", flush=True)


if __name__ == "__main__":
    main()
