"""The filter's three field kinds beyond plain columns, on SQLite and PostgreSQL: lists (`tags:"vip"`, a
JSON array column), fields kept in another table (a Lookup: one row per value, filtered through the
value's index) and computed fields (years_since: an age compared as a birth-date range); and DATE fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import JSON, Engine, Float, Integer, String, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from crm_platform.db import make_engine
from crm_platform.errors import InvalidArgument
from crm_platform.listing import (
    DATE,
    NUMBER,
    STRING,
    CursorCodec,
    Field,
    ListRequest,
    ListSpec,
    Lookup,
    compile_filter,
    list_page,
    parse_filter,
    to_text,
    years_since,
)
from crm_platform.listing.compiler import normalise
from crm_platform.listing.computed import years_before


class Base(DeclarativeBase):
    pass


class Member(Base):
    __tablename__ = "listing_members"

    id: Mapped[str] = mapped_column(String(10), primary_key=True)
    tags: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    birth_date: Mapped[str | None] = mapped_column(String(10), nullable=True)


class Extra(Base):
    """One value of a member's extra field per row (several for a multi-valued one)."""

    __tablename__ = "listing_member_extras"

    member_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    field: Mapped[str] = mapped_column(String(20), primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer, primary_key=True)
    text_value: Mapped[str | None] = mapped_column(String(50), nullable=True)
    number_value: Mapped[float | None] = mapped_column(Float, nullable=True)


TODAY = date(2026, 3, 1)


def extra(name: str, value: Any, *, repeated: bool = False, kind: Any = STRING) -> Field:
    rows = select(Extra.member_id).where(Extra.field == name)
    ordering = (
        select(value).where(Extra.member_id == Member.id, Extra.field == name, Extra.ordinal == 0)
    ).scalar_subquery()
    return Field(ordering, kind, repeated=repeated, lookup=Lookup(Member.id, rows, value))


SPEC = ListSpec(
    name="members",
    fields={
        "tags": Field(Member.tags, STRING, repeated=True),
        "birth_date": Field(Member.birth_date, DATE),
        "age": years_since(Member.birth_date, today=lambda: TODAY),
        "tier": extra("tier", Extra.text_value),
        "score": extra("score", Extra.number_value, kind=NUMBER),
        "colours": extra("colours", Extra.text_value, repeated=True),
    },
    orderable={"tier", "score", "birth_date"},
    default_order="birth_date",
    tie_breaker=Member.id,
)

MEMBERS = [
    # id, tags, birth date, tier, score, colours
    ("m1", ["vip", "press"], "1996-03-01", "gold", 3.5, ["red", "blue"]),
    ("m2", ["press"], "1996-03-02", "silver", 10.0, ["blue"]),
    ("m3", None, "1986-03-02", None, None, []),
    ("m4", ["vipx"], None, "gold", -1.0, ["green"]),
    ("m5", ["v\"i'p%"], "2000-02-29", "Gold", None, []),
]


@pytest.fixture(scope="module")
def engine(module_database_url: str) -> Iterator[Engine]:
    engine = make_engine(module_database_url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.execute(insert(Member), [{"id": i, "tags": t, "birth_date": b} for i, t, b, *_ in MEMBERS])
        rows = []
        for member, _tags, _born, tier, score, colours in MEMBERS:
            if tier is not None:
                rows.append({"member_id": member, "field": "tier", "ordinal": 0, "text_value": tier})
            if score is not None:
                rows.append({"member_id": member, "field": "score", "ordinal": 0, "number_value": score})
            rows += [
                {"member_id": member, "field": "colours", "ordinal": n, "text_value": colour}
                for n, colour in enumerate(colours)
            ]
        session.execute(insert(Extra), rows)
        session.commit()
    yield engine
    Base.metadata.drop_all(engine)
    engine.dispose()


def matching(engine: Engine, text: str) -> list[str]:
    with Session(engine) as session:
        where = compile_filter(text, SPEC, engine.dialect.name)
        query = select(Member.id).order_by(Member.id)
        return list(session.scalars(query if where is None else query.where(where)))


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        # Lists: exact membership, quotes and LIKE metacharacters are only characters.
        ('tags:"vip"', ["m1"]),
        ('tags:"press"', ["m1", "m2"]),
        ('tags : "VIP"', []),
        ('tags:"v\\"i\'p%"', ["m5"]),
        ('NOT tags:"press"', ["m3", "m4", "m5"]),
        ("tags = null", ["m3"]),
        ("tags != null", ["m1", "m2", "m4", "m5"]),
        ('tags:"vip" OR tags:"vipx"', ["m1", "m4"]),
        # Looked-up single values: every operator; no row behaves like NULL.
        ('tier = "gold"', ["m1", "m4"]),
        ('tier != "gold"', ["m2", "m3", "m5"]),
        ('NOT tier = "gold"', ["m2", "m3", "m5"]),
        ("tier = null", ["m3"]),
        ("tier != null", ["m1", "m2", "m4", "m5"]),
        ('tier : "GOL"', ["m1", "m4", "m5"]),
        ('tier = "g*"', ["m1", "m4"]),
        ('tier < "h"', ["m1", "m4", "m5"]),
        ("score > 0", ["m1", "m2"]),
        ("score <= 3.5", ["m1", "m4"]),
        ("NOT score > 0", ["m3", "m4", "m5"]),
        # Looked-up lists.
        ('colours:"blue"', ["m1", "m2"]),
        ('colours:"blue" colours:"red"', ["m1"]),
        ("colours = null", ["m3", "m5"]),
        # Dates and ages (today is 2026-03-01).
        ('birth_date >= "1996-03-01"', ["m1", "m2", "m5"]),
        ("age = 30", ["m1"]),
        ("age >= 30", ["m1", "m3"]),
        ("age > 29 AND age < 40", ["m1", "m3"]),
        ("age = 39", ["m3"]),  # 40 tomorrow
        ("age < 30", ["m2", "m5"]),
        ("age <= 29", ["m2", "m5"]),
        ("age != 30", ["m2", "m3", "m4", "m5"]),
        ("NOT age = 30", ["m2", "m3", "m4", "m5"]),
        ("NOT age >= 30", ["m2", "m4", "m5"]),
        ("age = 26", ["m5"]),  # born 29 February 2000: 26 on 1 March 2026
        ("age = null", ["m4"]),
    ],
)
def test_lists_lookups_and_ages_select_the_same_rows_on_every_backend(
    engine: Engine, text: str, ids: list[str]
) -> None:
    assert matching(engine, text) == ids


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ('tags = "vip"', 'tags is a list at position 0: use tags:"value" (the list holds it)'),
        ("tags < 1", "tags is a list at position 0"),
        ("tags : null", "tags is a list at position 0"),
        ('colours = "red"', "colours is a list at position 0"),
        ('age = "30"', '"30" is not a valid integer for age at position 6'),
        ("age > 151", "an age is a whole number of years from 0 to 150, not 151"),
        ("age = -1", "an age is a whole number of years from 0 to 150, not -1"),
        ('birth_date = "2026-02-30"', '"2026-02-30" is not a valid date for birth_date at position 13'),
        ('birth_date > "2026"', '"2026" is not a valid date for birth_date'),
        ('score = "x"', '"x" is not a valid number for score'),
        ("tier > null", "null can only be compared with = or !="),
    ],
)
def test_mistakes_name_the_field(text: str, detail: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        compile_filter(text, SPEC, "sqlite")
    assert detail in caught.value.fields["filter"]


def test_postgresql_membership_is_jsonb_containment_and_lookups_are_index_ranges() -> None:
    where = compile_filter('tags:"vip" tier = "gold"', SPEC, "postgresql")
    assert where is not None
    text = str(where.compile(dialect=postgresql.dialect()))
    assert "CAST(listing_members.tags AS JSONB) @>" in text
    assert "listing_members.id IN (SELECT listing_member_extras.member_id" in text
    lite = compile_filter('tags:"vip"', SPEC, "sqlite")
    assert lite is not None
    assert "json_each(listing_members.tags)" in str(lite.compile(dialect=sqlite.dialect()))


def test_age_compiles_to_a_birth_date_range() -> None:
    where = compile_filter("age >= 30 AND age < 40", SPEC, "sqlite")
    assert where is not None
    compiled = where.compile(dialect=sqlite.dialect())
    assert "listing_members.birth_date <=" in str(compiled)
    assert sorted(v for v in compiled.params.values() if isinstance(v, str)) == ["1986-03-01", "1996-03-01"]


def test_years_before_counts_29_february_as_28_in_other_years() -> None:
    assert years_before(date(2024, 2, 29), 1) == date(2023, 2, 28)
    assert years_before(date(2026, 3, 1), 30) == date(1996, 3, 1)


def test_lists_and_computed_fields_cannot_be_ordered_by() -> None:
    with pytest.raises(ValueError, match="no order of their own"):
        ListSpec(fields={"tags": SPEC.fields["tags"]}, orderable={"tags"}, tie_breaker=Member.id)
    with pytest.raises(ValueError, match="no order of their own"):
        ListSpec(fields={"age": SPEC.fields["age"]}, orderable={"age"}, tie_breaker=Member.id)


def test_normalised_dates_and_lists_keep_their_meaning() -> None:
    node = parse_filter("tags:'vip' birth_date > '2026-01-02' age >= 030")
    assert node is not None
    assert to_text(normalise(node, SPEC)) == 'tags : "vip" AND birth_date > "2026-01-02" AND age >= 30'


def test_pages_ordered_by_a_looked_up_field_follow_their_cursor(engine: Engine) -> None:
    codec = CursorCodec(b"k" * 32)
    seen: list[str] = []
    cursor = ""
    with Session(engine) as session:
        while True:
            page = list_page(
                session,
                select(Member),
                SPEC,
                ListRequest(order_by="score desc", limit=2, cursor=cursor),
                codec,
            )
            seen += [member.id for member in page.items]
            cursor = page.next_cursor
            if not cursor:
                break
    # NULL is the smallest value: last in descending order, then the id in the same direction.
    assert seen == ["m2", "m1", "m4", "m5", "m3"]
