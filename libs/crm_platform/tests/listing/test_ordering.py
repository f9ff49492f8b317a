"""order_by parsing (AIP-132), the ORDER BY it compiles to, and what a ListSpec accepts."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func
from sqlalchemy.dialects import postgresql, sqlite

from crm_platform.db import UtcDateTime
from crm_platform.errors import InvalidArgument
from crm_platform.listing import ENUM, INTEGER, STRING, TIMESTAMP, Field, ListSpec
from crm_platform.listing.ordering import order_clauses, order_text

people = Table(
    "people",
    MetaData(),
    Column("id", String(36), primary_key=True),
    Column("first_name", String(50), nullable=False),
    Column("last_name", String(50), nullable=False),
    Column("nick", String(50), nullable=True),
    Column("score", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("notes", String(50), nullable=False),
)
FIELDS = {
    "first_name": Field(people.c.first_name, STRING),
    "last_name": Field(people.c.last_name, STRING),
    "nick": Field(people.c.nick, STRING),
    "score": Field(people.c.score, INTEGER),
    "created_at": Field(people.c.created_at, TIMESTAMP),
    "notes": Field(people.c.notes, STRING),
}
SPEC = ListSpec(
    fields=FIELDS,
    orderable={"first_name", "last_name", "nick", "score", "created_at"},
    default_order="created_at desc",
    tie_breaker=people.c.id,
)
ORDERABLE = "created_at, first_name, last_name, nick, score"


def rendered(order_by: str, dialect: str) -> list[str]:
    compiler = (sqlite if dialect == "sqlite" else postgresql).dialect()
    return [
        str(clause.compile(dialect=compiler)) for clause in order_clauses(SPEC.order_keys(order_by), dialect)
    ]


@pytest.mark.parametrize(
    ("order_by", "canonical"),
    [
        ("last_name desc, created_at", "last_name desc,created_at"),
        ("last_name DESC,created_at ASC", "last_name desc,created_at"),
        ("  first_name  ", "first_name"),
        ("score desc , nick asc", "score desc,nick"),
        # Empty: the spec's default.
        ("", "created_at desc"),
        ("   ", "created_at desc"),
    ],
)
def test_parses_to_a_canonical_order(order_by: str, canonical: str) -> None:
    keys = SPEC.order_keys(order_by)
    assert order_text(keys[:-1]) == canonical
    assert keys[-1].field.clause is people.c.id


def test_tie_breaker_follows_the_direction_of_the_last_key() -> None:
    assert SPEC.order_keys("last_name desc")[-1].descending is True
    assert SPEC.order_keys("last_name desc, first_name")[-1].descending is False
    assert SPEC.order_keys("first_name, last_name desc")[-1].descending is True


@pytest.mark.parametrize(
    ("order_by", "detail"),
    [
        ("passwd", f'cannot order by "passwd" at position 0; orderable fields: {ORDERABLE}'),
        ("last_name, notes", f'cannot order by "notes" at position 11; orderable fields: {ORDERABLE}'),
        ("id; DROP TABLE people", f'cannot order by "id;" at position 0; orderable fields: {ORDERABLE}'),
        ("last_name, last_name desc", '"last_name" is listed twice at position 11'),
        ("last_name sideways", 'expected "asc" or "desc" after "last_name" at position 10, found "sideways"'),
        ("last_name desc nick", 'expected "," or the end at position 15, found "nick"'),
        ("last_name,", "expected a field name at position 10"),
        (",last_name", "expected a field name at position 0"),
        ("last_name,,nick", "expected a field name at position 10"),
        ("x" * 1001, "is 1001 characters long; the limit is 1000"),
    ],
)
def test_errors_say_where(order_by: str, detail: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        SPEC.order_keys(order_by)
    assert raised.value.fields == {"order_by": detail}
    assert raised.value.message == f"invalid order_by: {detail}"


def test_order_by_clauses_on_postgresql() -> None:
    # Strings in code-point order; NULL smallest: NULLS FIRST ascending, NULLS LAST descending, and only
    # on nullable keys, so an ordinary index still serves NOT NULL ones.
    assert rendered("nick, score desc", "postgresql") == [
        'people.nick COLLATE "C" ASC NULLS FIRST',
        "people.score DESC NULLS LAST",
        'people.id COLLATE "C" DESC',
    ]
    assert rendered("", "postgresql") == ["people.created_at DESC", 'people.id COLLATE "C" DESC']


def test_order_by_clauses_on_sqlite() -> None:
    assert rendered("nick desc, first_name", "sqlite") == [
        "people.nick DESC NULLS LAST",
        "people.first_name ASC",
        "people.id ASC",
    ]


# ---------------------------------------------------------------------------------------------------
# ListSpec and Field validation: mistakes in a service's declaration fail at import, not at request


def test_spec_rejects_orderable_names_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="not in fields"):
        ListSpec(fields=FIELDS, orderable={"last_name", "age"}, tie_breaker=people.c.id)


def test_spec_rejects_a_bad_default_order() -> None:
    with pytest.raises(ValueError, match='default_order: invalid order_by: cannot order by "notes"'):
        ListSpec(fields=FIELDS, orderable={"last_name"}, default_order="notes", tie_breaker=people.c.id)


def test_spec_needs_a_not_null_string_or_integer_tie_breaker() -> None:
    with pytest.raises(ValueError, match="NOT NULL"):
        ListSpec(fields=FIELDS, tie_breaker=people.c.nick)
    with pytest.raises(ValueError, match="NOT NULL"):
        ListSpec(fields=FIELDS, tie_breaker=func.lower(people.c.id))
    with pytest.raises(ValueError, match="string or integer"):
        ListSpec(fields=FIELDS, tie_breaker=people.c.created_at)


@pytest.mark.parametrize("name", ["AND", "null", "true", "first name", "1st", "a-b", ""])
def test_spec_rejects_names_a_filter_could_not_spell(name: str) -> None:
    with pytest.raises(ValueError, match="cannot be a field name"):
        ListSpec(fields={name: Field(people.c.first_name, STRING)}, tie_breaker=people.c.id)


def test_field_declarations_are_checked() -> None:
    with pytest.raises(ValueError, match="needs its enum_values"):
        Field(people.c.notes, ENUM)
    with pytest.raises(ValueError, match="lower-case"):
        Field(people.c.notes, ENUM, enum_values=("Person",))
    with pytest.raises(ValueError, match="only apply to enum"):
        Field(people.c.notes, STRING, enum_values=("a",))
    with pytest.raises(TypeError, match="not a column"):
        Field("notes", STRING)


def test_field_nullability_comes_from_the_column_unless_declared() -> None:
    assert Field(people.c.nick, STRING).nullable is True
    assert Field(people.c.first_name, STRING).nullable is False
    assert Field(func.lower(people.c.first_name), STRING).nullable is True  # an expression: assume NULLs
    assert Field(func.lower(people.c.first_name), STRING, nullable=False).nullable is False
