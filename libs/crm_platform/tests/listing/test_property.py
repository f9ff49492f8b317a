"""Property: walking every page of a filtered, ordered listing returns exactly what a plain Python
reading of the same filter and order returns, on SQLite and on PostgreSQL.

Hypothesis generates the rows (unicode, empty and duplicate strings, LIKE/GLOB metacharacters, NULLs,
ints, floats, booleans, timestamps, an enum), a filter AST, its text (with random spelling: AND or
juxtaposition, NOT or -, quote style, bare words, redundant parentheses, offsets on timestamps), an
order_by and a page size. The library parses the text, compiles it to SQL and pages with its cursor;
the oracle evaluates the generated AST over the same rows and sorts them in Python. Any disagreement in
parsing (precedence!), SQL semantics (NULLs, collation, case folding, wildcards) or keyset paging shows.

On PostgreSQL the string columns get an ICU collation (when the server has one) that orders differently
from code points, to prove the library's code-point ordering does not depend on the database's locale.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, String, delete, insert, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from crm_platform.db import UtcDateTime, make_engine
from crm_platform.listing import (
    BOOLEAN,
    ENUM,
    INTEGER,
    NUMBER,
    STRING,
    TIMESTAMP,
    CursorCodec,
    Field,
    ListRequest,
    ListSpec,
    list_page,
)
from crm_platform.listing.syntax import And, Boolean, Comparison, Node, Not, Null, Number, Or
from crm_platform.listing.syntax import String as Str


class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "listing_things"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    nick: Mapped[str | None] = mapped_column(String(50))
    score: Mapped[int | None]
    ratio: Mapped[float]
    active: Mapped[bool]
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


KINDS = ("person", "company", "lead_source")
SPEC = ListSpec(
    name="things",
    fields={
        "id": Field(Thing.id, STRING),
        "name": Field(Thing.name, STRING),
        "nick": Field(Thing.nick, STRING),
        "score": Field(Thing.score, INTEGER),
        "ratio": Field(Thing.ratio, NUMBER),
        "active": Field(Thing.active, BOOLEAN),
        "kind": Field(Thing.kind, ENUM, enum_values=KINDS),
        "created_at": Field(Thing.created_at, TIMESTAMP),
        "seen_at": Field(Thing.seen_at, TIMESTAMP),
    },
    orderable={"name", "nick", "score", "ratio", "active", "kind", "created_at", "seen_at"},
    default_order="created_at",
    tie_breaker=Thing.id,
)
TYPES = {name: field.type for name, field in SPEC.fields.items()}
NULLABLE = {name for name, field in SPEC.fields.items() if field.nullable}
CODEC = CursorCodec(b"k" * 32)

# Characters that stress escaping (LIKE, GLOB, filter quotes), case folding (ASCII and not) and collation.
_TRICKY = [*"aAbBzZ09 _%*?[]\\'\"éÉßİı\n", "😀"]
_CHARS = st.sampled_from(_TRICKY) | st.characters(codec="utf-8", exclude_characters="\x00")
_TEXT = st.text(_CHARS, max_size=4)
_STAMPS = st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC))
_FLOATS = st.sampled_from([-1.5, -0.0, 0.0, 0.1, 2.25]) | st.floats(allow_nan=False, allow_infinity=False)
_INTS = st.integers(-3, 3) | st.sampled_from([-(2**31), 2**31 - 1, 3_000_000_000, -(2**63), 2**63 - 1])


# ---------------------------------------------------------------------------------------------------
# Data


@st.composite
def row_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    # Pools make duplicates likely, which is where ties, tie-breakers and keyset equality matter.
    texts = draw(st.lists(_TEXT, min_size=1, max_size=4))
    # Values that differ only in case: where case-sensitive "=" and case-folding ":" part ways.
    texts += [text.swapcase() for text in texts if draw(st.booleans())]
    stamps = draw(st.lists(_STAMPS, min_size=1, max_size=3))
    pooled_text = st.sampled_from(texts) | _TEXT
    ids = draw(st.lists(st.text("abcXYZ-_é", min_size=1, max_size=3), unique=True, min_size=3, max_size=16))
    return [
        {
            "id": row_id,
            "name": draw(pooled_text),
            "nick": draw(st.none() | pooled_text),
            "score": draw(st.none() | st.integers(-3, 3)),
            "ratio": draw(st.sampled_from([0.0, 2.25]) | _FLOATS),
            "active": draw(st.booleans()),
            "kind": draw(st.sampled_from(KINDS)),
            "created_at": draw(st.sampled_from(stamps)),
            "seen_at": draw(st.none() | st.sampled_from(stamps)),
        }
        for row_id in ids
    ]


# ---------------------------------------------------------------------------------------------------
# Filters: an AST over the rows' values, and a randomly spelled text of it


def _existing(draw: st.DrawFn, rows: list[dict[str, Any]], name: str) -> Any:
    present = [row[name] for row in rows if row[name] is not None]
    return draw(st.sampled_from(present)) if present else None


def _case_variants(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text, text.upper(), text.lower(), text.swapcase()])


# String fields twice: they have the most semantics to get wrong (collation, case, wildcards, escaping).
_FIELD_CHOICES = sorted(TYPES) + sorted(name for name, kind in TYPES.items() if kind is STRING)
# "*=" stands for "=" or "!=" with wildcards.
_STRING_OPS = ["=", "!=", "<", "<=", ">", ">=", ":", ":", "*=", "*="]


def _prefer_existing(draw: st.DrawFn, seen: Any, fresh: st.SearchStrategy[Any]) -> Any:
    """A value of some row most of the time (so that filters select something), else a fresh one."""
    return seen if seen is not None and draw(st.integers(0, 3)) > 0 else draw(fresh)


@st.composite
def comparisons(draw: st.DrawFn, rows: list[dict[str, Any]]) -> Comparison:
    name = draw(st.sampled_from(_FIELD_CHOICES))
    kind = TYPES[name]
    if draw(st.integers(0, 9)) == 0:
        return Comparison(name, draw(st.sampled_from(["=", "!="])), Null())
    seen = _existing(draw, rows, name)
    if kind is STRING:
        op = draw(st.sampled_from(_STRING_OPS))
        base = _prefer_existing(draw, seen, _TEXT)
        if op == ":":
            start = draw(st.integers(0, len(base)))
            needle = base[start : draw(st.integers(start, len(base)))]
            return Comparison(name, op, Str((draw(_case_variants(needle)),)))
        if op == "*=":
            cuts = sorted(draw(st.lists(st.integers(0, len(base)), min_size=1, max_size=3)))
            pieces = [base[a:b] for a, b in zip([0, *cuts], [*cuts, len(base)], strict=True)]
            # Keep the first and last pieces, drop some inner ones: "*" stands for what was dropped.
            kept = [pieces[0], *[p for p in pieces[1:-1] if draw(st.booleans())], pieces[-1]]
            parts = tuple(draw(_case_variants(p)) for p in kept)
            return Comparison(name, draw(st.sampled_from(["=", "!="])), Str(parts))
        return Comparison(name, op, Str((draw(_case_variants(base)),)))
    op = draw(st.sampled_from(["=", "!="] if kind in (BOOLEAN, ENUM) else ["=", "!=", "<", "<=", ">", ">="]))
    if kind is INTEGER:
        value = _prefer_existing(draw, seen, _INTS)
        return Comparison(name, op, Number(str(value)))
    if kind is NUMBER:
        value = _prefer_existing(draw, seen, _FLOATS)
        return Comparison(name, op, Number(repr(value)))
    if kind is BOOLEAN:
        return Comparison(name, op, Boolean(draw(st.booleans())))
    if kind is ENUM:
        value = draw(st.sampled_from(KINDS))
        return Comparison(name, op, Str((value.upper() if draw(st.booleans()) else value,)))
    stamp = _prefer_existing(draw, seen, _STAMPS)
    stamp += draw(st.sampled_from([timedelta(0), timedelta(microseconds=1), -timedelta(microseconds=1)]))
    zone = draw(
        st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
    )
    written = stamp.astimezone(zone).isoformat()
    if zone is UTC and draw(st.booleans()):
        written = written.replace("+00:00", "Z")
    return Comparison(name, op, Str((written,)))


def filters(rows: list[dict[str, Any]]) -> st.SearchStrategy[Node]:
    return st.recursive(
        comparisons(rows),
        lambda children: st.one_of(
            st.lists(children, min_size=2, max_size=3).map(lambda terms: And(tuple(terms))),
            st.lists(children, min_size=2, max_size=3).map(lambda terms: Or(tuple(terms))),
            children.map(Not),
        ),
        max_leaves=6,
    )


_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@st.composite
def spelling(draw: st.DrawFn, node: Node) -> str:
    """Filter text for `node`, spelled at random but meaning the same under AIP-160 precedence."""
    if isinstance(node, Comparison):
        return f"{node.field}{draw(st.sampled_from([' ', '']))}{node.op} {draw(_value_text(node.value))}"
    if isinstance(node, Not):
        inner = draw(spelling(node.operand))
        if not isinstance(node.operand, Comparison) or draw(st.booleans()):
            inner = f"({inner})"
        return draw(st.sampled_from(["NOT ", "-"])) + inner
    texts = []
    for term in node.terms:
        inner = draw(spelling(term))
        # OR binds tighter than AND, so only an AND inside an OR needs parentheses; add some anyway.
        if (isinstance(node, Or) and isinstance(term, And)) or draw(st.integers(0, 4)) == 0:
            inner = f"({inner})"
        texts.append(inner)
    if isinstance(node, Or):
        return " OR ".join(texts)
    joined = texts[0]
    for more in texts[1:]:
        joined += draw(st.sampled_from([" AND ", " "])) + more
    return joined


@st.composite
def _value_text(draw: st.DrawFn, value: Any) -> str:
    if isinstance(value, Number):
        return value.text
    if isinstance(value, Boolean):
        return "true" if value.value else "false"
    if isinstance(value, Null):
        return "null"
    literal = value.parts[0]
    if (
        len(value.parts) == 1
        and _BARE.fullmatch(literal)
        and literal not in ("AND", "OR", "NOT", "true", "false", "null")
        and draw(st.booleans())
    ):
        return literal
    quote = draw(st.sampled_from(['"', "'"]))

    def escape(part: str) -> str:
        return part.replace("\\", "\\\\").replace(quote, "\\" + quote).replace("*", "\\*")

    return quote + "*".join(escape(part) for part in value.parts) + quote


@st.composite
def orders(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(sorted(SPEC.orderable)), unique=True, max_size=3))
    items = [name + draw(st.sampled_from(["", " asc", " desc", " DESC"])) for name in names]
    return draw(st.sampled_from([",", ", ", " , "])).join(items)


# ---------------------------------------------------------------------------------------------------
# The oracle


def _ascii_lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def holds(node: Node, row: dict[str, Any]) -> bool:
    if isinstance(node, And):
        return all(holds(term, row) for term in node.terms)
    if isinstance(node, Or):
        return any(holds(term, row) for term in node.terms)
    if isinstance(node, Not):
        return not holds(node.operand, row)
    actual, op, value = row[node.field], node.op, node.value
    if isinstance(value, Null):
        return (actual is None) == (op == "=")
    if actual is None:  # NULL equals only null: != anything else is true, every other comparison false
        return op == "!="
    kind = TYPES[node.field]
    if kind is STRING and op == ":":
        return _ascii_lower(value.text) in _ascii_lower(actual)
    if kind is STRING and op in ("=", "!=") and len(value.parts) > 1:
        pattern = ".*".join(re.escape(part) for part in value.parts)
        return (re.fullmatch(pattern, actual, re.DOTALL) is not None) == (op == "=")
    expected: Any
    if kind is STRING:
        expected = value.text
    elif kind is INTEGER:
        expected = int(value.text)
    elif kind is NUMBER:
        expected = float(value.text)
    elif kind is BOOLEAN:
        expected = value.value
    elif kind is ENUM:
        expected = value.text.lower()
    else:
        expected = datetime.fromisoformat(value.text)
    return {
        "=": actual == expected,
        "!=": actual != expected,
        "<": actual < expected,
        "<=": actual <= expected,
        ">": actual > expected,
        ">=": actual >= expected,
    }[op]


def expected_ids(rows: list[dict[str, Any]], node: Node | None, order_by: str) -> list[str]:
    keys = [(k.name or "id", k.descending) for k in SPEC.order_keys(order_by)]

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for name, descending in keys:
            x, y = a[name], b[name]
            if x == y:
                continue
            smaller = x is None or (y is not None and x < y)  # NULL is the smallest value
            return (1 if smaller else -1) if descending else (-1 if smaller else 1)
        return 0

    matching = [row for row in rows if node is None or holds(node, row)]
    return [row["id"] for row in sorted(matching, key=functools.cmp_to_key(compare))]


# ---------------------------------------------------------------------------------------------------
# The test


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            if conn.scalar(text("SELECT count(*) FROM pg_collation WHERE collname = 'en-x-icu'")):
                for column in ("id", "name", "nick", "kind"):
                    alter = (
                        f'ALTER TABLE listing_things ALTER COLUMN {column} TYPE varchar COLLATE "en-x-icu"'
                    )
                    conn.execute(text(alter))
    yield engine
    engine.dispose()


def walk(session: Session, filter_text: str, order_by: str, size: int, max_pages: int) -> list[str]:
    ids: list[str] = []
    cursor = ""
    for _ in range(max_pages):
        request = ListRequest(filter=filter_text, order_by=order_by, cursor=cursor, limit=size)
        page = list_page(session, select(Thing), SPEC, request, CODEC)
        assert page.items or not cursor, "a cursor led to an empty page"
        assert len(page.items) <= size
        ids.extend(thing.id for thing in page.items)
        if not page.next_cursor:
            return ids
        cursor = page.next_cursor
    raise AssertionError("paging did not end")


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[dict[str, Any]], Node | None, str, str, int]:
    rows = draw(row_sets())
    with_filter = draw(st.sampled_from([True] * 9 + [False]))  # integers(0, 9) == 0 would favour 0
    node = draw(filters(rows)) if with_filter else None
    filter_text = "" if node is None else draw(spelling(node))
    return rows, node, filter_text, draw(orders()), draw(st.integers(1, 5))


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_pages_match_python_evaluation(engine: Engine, scenario: tuple[Any, ...]) -> None:
    rows, node, filter_text, order_by, size = scenario
    with Session(engine) as session:
        session.execute(delete(Thing))
        if rows:
            session.execute(insert(Thing), rows)
        session.commit()
    with Session(engine) as session:
        got = walk(session, filter_text, order_by, size, max_pages=len(rows) + 2)
    assert got == expected_ids(rows, node, order_by), (filter_text, order_by)


def test_the_oracle_reads_null_as_smallest() -> None:
    # A sanity check of the oracle itself, so that the property above is not vacuous.
    rows: list[dict[str, Any]] = [
        {"id": "a", "score": None},
        {"id": "b", "score": 1},
        {"id": "c", "score": None},
    ]
    assert expected_ids(rows, None, "score") == ["a", "c", "b"]
    assert expected_ids(rows, None, "score desc") == ["b", "c", "a"]
    not_one = Not(Comparison("score", "=", Number("1")))
    assert expected_ids(rows, not_one, "score") == ["a", "c"]
