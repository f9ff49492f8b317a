"""The filter compiler: allow-list and type checks (with positions), what SQL it emits, and what that SQL
selects on SQLite and PostgreSQL (case, wildcards, LIKE/GLOB metacharacters, NULLs, code-point order)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, String, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from crm_platform.db import UtcDateTime, make_engine
from crm_platform.errors import InvalidArgument
from crm_platform.listing import (
    BOOLEAN,
    ENUM,
    INTEGER,
    NUMBER,
    STRING,
    TIMESTAMP,
    Field,
    ListSpec,
    compile_filter,
    parse_filter,
    to_text,
)
from crm_platform.listing.compiler import normalise


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "listing_people"

    id: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    nick: Mapped[str | None] = mapped_column(String(50))
    notes: Mapped[str] = mapped_column(String(50), default="")
    score: Mapped[int | None]
    ratio: Mapped[float] = mapped_column(default=0.0)
    active: Mapped[bool] = mapped_column(default=True)
    kind: Mapped[str] = mapped_column(String(20), default="person")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=datetime(2026, 1, 1, tzinfo=UTC))


SPEC = ListSpec(
    fields={
        "name": Field(Person.name, STRING),
        "nick": Field(Person.nick, STRING),
        "notes": Field(Person.notes, STRING, filterable=False),
        "score": Field(Person.score, INTEGER),
        "ratio": Field(Person.ratio, NUMBER),
        "active": Field(Person.active, BOOLEAN),
        "kind": Field(Person.kind, ENUM, enum_values=("person", "company")),
        "created_at": Field(Person.created_at, TIMESTAMP),
    },
    orderable={"name", "created_at"},
    tie_breaker=Person.id,
)
FILTERABLE = "active, created_at, kind, name, nick, ratio, score"


def sql(text: str, dialect: str = "sqlite") -> tuple[str, dict[str, object]]:
    where = compile_filter(text, SPEC, dialect)
    assert where is not None
    compiled = where.compile(dialect=(sqlite if dialect == "sqlite" else postgresql).dialect())
    return str(compiled), dict(compiled.params)


# ---------------------------------------------------------------------------------------------------
# Allow-list and types


RFC = ' (RFC 3339 with an offset, e.g. "2026-01-01T00:00:00Z")'
KINDS = "; allowed values: company, person"
ORDERED = "use =, !=, <, <=, >, >="


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ('passwd = "x"', f'unknown field "passwd" at position 0; filterable fields: {FILTERABLE}'),
        ('name = "x" AND id = "1"', f'unknown field "id" at position 15; filterable fields: {FILTERABLE}'),
        ('notes : "x"', f'cannot filter on field "notes" at position 0; filterable fields: {FILTERABLE}'),
        ("__class__ = 1", f'unknown field "__class__" at position 0; filterable fields: {FILTERABLE}'),
        ('score = "x"', '"x" is not a valid integer for score at position 8'),
        ("score = 1.5", "1.5 is not a valid integer for score at position 8"),
        ("score = true", "true is not a valid integer for score at position 8"),
        ("score = 99999999999999999999",
         "99999999999999999999 is not a valid integer for score at position 8 (out of the 64-bit range)"),
        ("score : 1", f'":" does not apply to integer field score at position 0; {ORDERED}'),
        ("ratio = 1e999", "1e999 is not a valid number for ratio at position 8 (out of range)"),
        ('ratio > "1"', '"1" is not a valid number for ratio at position 8'),
        ("active < true", '"<" does not apply to boolean field active at position 0; use =, !='),
        ("active = 1", "1 is not a valid boolean for active at position 9 (use true or false)"),
        ("active = yes", '"yes" is not a valid boolean for active at position 9 (use true or false)'),
        ("kind = robot", f'"robot" is not a valid value for kind at position 7{KINDS}'),
        ('kind = "pers*"', f'"pers*" is not a valid value for kind at position 7{KINDS}'),
        ("kind > person", '">" does not apply to enum field kind at position 0; use =, !='),
        ('kind : "p"', '":" does not apply to enum field kind at position 0; use =, !='),
        ("name = 12", "12 is not a valid string for name at position 7 (quote it)"),
        ("name = true", "true is not a valid string for name at position 7 (quote it)"),
        ("name < null", "null can only be compared with = or != at position 7"),
        ('created_at > "abc"', f'"abc" is not a valid timestamp for created_at at position 13{RFC}'),
        ('created_at > "2026-01-01T00:00:00"',
         f'"2026-01-01T00:00:00" is not a valid timestamp for created_at at position 13{RFC}'),
        ('created_at > "2026-01-01"',
         f'"2026-01-01" is not a valid timestamp for created_at at position 13{RFC}'),
        ('created_at > "2026-02-30T00:00:00Z"',
         f'"2026-02-30T00:00:00Z" is not a valid timestamp for created_at at position 13{RFC}'),
        ('created_at > "2026-01-01T00:00:00.0000001Z"',
         '"2026-01-01T00:00:00.0000001Z" is not a valid timestamp for created_at at position 13'
         " (more precise than microseconds)"),
        ("created_at > 2026", "2026 is not a valid timestamp for created_at at position 13"
         ' (an RFC 3339 string, e.g. "2026-01-01T00:00:00Z")'),
        ('created_at : "2026"', f'":" does not apply to timestamp field created_at at position 0; {ORDERED}'),
    ],
)  # fmt: skip
def test_allow_list_and_type_errors_name_the_position(text: str, detail: str) -> None:
    for dialect in ("sqlite", "postgresql"):
        with pytest.raises(InvalidArgument) as raised:
            compile_filter(text, SPEC, dialect)
        assert raised.value.fields == {"filter": detail}
        assert detail in raised.value.message


def test_empty_filter_compiles_to_nothing() -> None:
    assert compile_filter("  ", SPEC, "sqlite") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('created_at > "2026-01-01T00:00:00Z"', datetime(2026, 1, 1, tzinfo=UTC)),
        ('created_at > "2026-01-01t01:30:00+01:30"', datetime(2026, 1, 1, tzinfo=UTC)),
        ('created_at > "2025-12-31T19:00:00.5-05:00"', datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        # protobuf's JSON writes nanoseconds; zeros beyond microseconds are fine.
        ('created_at > "2026-01-01T00:00:00.123456000Z"', datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_timestamps_are_rfc3339_converted_to_utc(text: str, expected: datetime) -> None:
    _, params = sql(text, "postgresql")
    # Bound through UtcDateTime, which stores naive UTC.
    assert list(params.values()) == [expected]


def test_literals_are_bound_parameters_never_sql_text() -> None:
    attack = "x' OR 1=1 --"
    text, params = sql(f'name = "{attack}"')
    assert attack not in text and "OR" not in text
    assert list(params.values()) == [attack]
    text, params = sql('name = "*\'; DROP TABLE listing_people; --*"', "postgresql")
    assert "DROP" not in text
    assert list(params.values()) == ["%'; DROP TABLE listing\\_people; --%"]


def test_enum_values_are_lower_case_names() -> None:
    assert list(sql("kind = PERSON")[1].values()) == ["person"]
    assert list(sql("kind != 'company'")[1].values()) == ["company"]


def test_integers_are_bound_as_bigint_so_wide_literals_work_on_integer_columns() -> None:
    text, params = sql("score < 3000000000", "postgresql")
    assert "::BIGINT" in text and list(params.values()) == [3_000_000_000]


def test_nullable_fields_get_two_valued_comparisons() -> None:
    assert sql('nick = "x"')[0] == "listing_people.nick IS NOT NULL AND listing_people.nick = ?"
    assert sql('nick != "x"')[0] == "listing_people.nick IS NULL OR listing_people.nick != ?"
    assert sql("nick = null")[0] == "listing_people.nick IS NULL"
    assert sql("nick != null")[0] == "listing_people.nick IS NOT NULL"
    # NOT NULL columns need no guard.
    assert sql('name = "x"')[0] == "listing_people.name = ?"


def test_string_rules_per_dialect() -> None:
    assert sql('name < "b"', "postgresql")[0] == '(listing_people.name COLLATE "C") < %(param_1)s::VARCHAR'
    assert sql('name < "b"')[0] == "listing_people.name < ?"
    # Equality keeps the column bare, so an ordinary index serves it.
    assert sql('name = "b"', "postgresql")[0] == "listing_people.name = %(name_1)s::VARCHAR"
    assert sql('name = "a*"')[0] == "listing_people.name GLOB ?"
    assert sql('name = "a*"', "postgresql")[0] == "listing_people.name LIKE %(name_1)s::VARCHAR ESCAPE '\\'"
    assert sql('name : "A"', "postgresql")[0] == (
        "lower(listing_people.name COLLATE \"C\") LIKE %(lower_1)s::VARCHAR ESCAPE '\\'"
    )


@pytest.mark.parametrize(
    ("value", "glob", "like"),
    [
        ('"*@example.com"', "*@example.com", "%@example.com"),
        ('"100%*"', "100%*", "100\\%%"),
        ('"a_b*"', "a_b*", "a\\_b%"),
        ('"[x]?*"', "[[]x][?]*", "[x]?%"),
        ('"\\\\*"', "\\*", "\\\\%"),
        ('"\\**"', "[*]*", "*%"),
    ],
)
def test_wildcard_patterns_escape_the_backends_metacharacters(value: str, glob: str, like: str) -> None:
    assert list(sql(f"name = {value}", "sqlite")[1].values()) == [glob]
    assert list(sql(f"name = {value}", "postgresql")[1].values()) == [like]


def test_has_escapes_like_metacharacters_and_folds_ascii_only() -> None:
    assert list(sql('name : "10%_É\\\\X"')[1].values()) == ["%10\\%\\_É\\\\x%"]


def test_no_sql_text_is_built_from_input() -> None:
    # A crude but useful guard: the compiled SQL of any filter has no quote character other than the
    # escape clause's and the collation's, whatever the input held.
    text, _ = sql("""name = "'\\"" OR nick : "'" OR name = "'*" OR name < "\\"" """, "postgresql")
    assert re.sub(r"ESCAPE '\\'|COLLATE \"C\"", "", text).count("'") == 0
    assert re.sub(r"ESCAPE '\\'|COLLATE \"C\"", "", text).count('"') == 0


# ---------------------------------------------------------------------------------------------------
# What the SQL selects, on both backends

PEOPLE = [
    # id, name, nick, score
    ("p1", "Ada", None, 5),
    ("p2", "ada", "lovelace", None),
    ("p3", "100%", "100x", 1),
    ("p4", "a_b", "axb", 2),
    ("p5", "Émile", "émile", 3),
    ("p6", "*star", "x*", -1),
    ("p7", "[ab]?", "a\\b", 0),
    ("p8", "Zed", "", 4),
    ("p9", "", None, 3_000_000),
]


@pytest.fixture(scope="module")
def engine(module_database_url: str) -> Iterator[Engine]:
    engine = make_engine(module_database_url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.execute(
            insert(Person),
            [{"id": i, "name": n, "nick": k, "score": s} for i, n, k, s in PEOPLE],
        )
        session.commit()
    yield engine
    engine.dispose()


def matching(engine: Engine, text: str) -> list[str]:
    with Session(engine) as session:
        where = compile_filter(text, SPEC, engine.dialect.name)
        query = select(Person.id).order_by(Person.id)
        return list(session.scalars(query if where is None else query.where(where)))


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        # Equality is exact and case-sensitive; so are wildcards.
        ('name = "ada"', ["p2"]),
        ('name = "Ad*"', ["p1"]),
        ('name = "*a"', ["p1", "p2"]),
        ('name = "*"', [f"p{i}" for i in range(1, 10)]),
        ('name != "a*"', ["p1", "p3", "p5", "p6", "p7", "p8", "p9"]),
        # ":" ignores ASCII case only: "é" does not find "É".
        ('name : "ADA"', ["p1", "p2"]),
        ('name : "é"', []),
        ('nick : "É"', []),
        ('nick : "ÉMILE"', []),
        ('nick : "MILE"', ["p5"]),
        # LIKE and GLOB metacharacters in values are literal.
        ('name : "0%"', ["p3"]),
        ('name = "100%"', ["p3"]),
        ('name : "_"', ["p4"]),
        ('name = "a_*"', ["p4"]),
        ('nick = "a\\\\*"', ["p7"]),
        ('name = "\\**"', ["p6"]),
        ('nick = "*\\*"', ["p6"]),
        ('name = "[ab]*"', ["p7"]),
        ('name = "?*"', []),
        ('name : "[ab]?"', ["p7"]),
        # The injection attempt is only a string that matches nothing.
        ('name = "x\' OR 1=1 --"', []),
        ("name = \"' OR ''='\"", []),
        # Code-point order: upper case before lower case, "É" after every ASCII letter.
        ('name < "a"', ["p1", "p3", "p6", "p7", "p8", "p9"]),
        ('name > "z"', ["p5"]),
        ('name >= "Zed" name < "a"', ["p7", "p8"]),
        # NULL equals only null; "!=" something is true for NULL, every other comparison false.
        ("nick = null", ["p1", "p9"]),
        ("nick != null", ["p2", "p3", "p4", "p5", "p6", "p7", "p8"]),
        ('nick != "axb"', ["p1", "p2", "p3", "p5", "p6", "p7", "p8", "p9"]),
        ('NOT nick = "axb"', ["p1", "p2", "p3", "p5", "p6", "p7", "p8", "p9"]),
        ('nick < "b"', ["p3", "p4", "p7", "p8"]),
        ('NOT nick < "b"', ["p1", "p2", "p5", "p6", "p9"]),
        ('nick : ""', ["p2", "p3", "p4", "p5", "p6", "p7", "p8"]),
        ("score > 2 OR score = null", ["p1", "p2", "p5", "p8", "p9"]),
        ("-score >= 0", ["p2", "p6"]),
        # Integers wider than the column are still compared, not refused by PostgreSQL.
        ("score < 3000000000", ["p1", "p3", "p4", "p5", "p6", "p7", "p8", "p9"]),
        ("score > -9223372036854775808 score < 0", ["p6"]),
        # AIP-160 precedence on real rows: a AND (b OR c).
        ('name = "Ada" name = "ada" OR score = 5', ["p1"]),
        ('(name = "Ada" name = "ada") OR score = 5', ["p1"]),
        ('kind = PERSON active = true created_at >= "2026-01-01T00:00:00Z" score = 5', ["p1"]),
        ('created_at > "2026-01-01T00:00:00Z"', []),
        ("ratio = 0 ratio < 0.5 ratio > -1e-3", [f"p{i}" for i in range(1, 10)]),
    ],
)
def test_filters_select_the_same_rows_on_every_backend(engine: Engine, text: str, ids: list[str]) -> None:
    assert matching(engine, text) == ids


def test_table_survives_injection_attempts(engine: Engine) -> None:
    for attempt in ['name = "x"; DROP TABLE listing_people', "name = x); DROP TABLE listing_people; --"]:
        with pytest.raises(InvalidArgument):
            matching(engine, attempt)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Person)) == len(PEOPLE)


def test_normalised_text_is_the_same_for_filters_that_mean_the_same() -> None:
    spellings = [
        'created_at > "2026-01-01T01:00:00+01:00" kind = PERSON score = 01 ratio = 1e0 active = true',
        "created_at > '2026-01-01T00:00:00Z' AND kind = person AND score = 1 AND ratio = 1.0 active = true",
    ]
    texts = {to_text(normalise(parse_filter(text), SPEC)) for text in spellings}  # type: ignore[arg-type]
    assert texts == {
        'created_at > "2026-01-01T00:00:00+00:00" AND kind = "person" AND score = 1 AND ratio = 1.0 '
        "AND active = true"
    }
    # Strings are compared exactly, so their spelling is kept.
    assert to_text(normalise(parse_filter("name = ADA"), SPEC)) == 'name = "ADA"'  # type: ignore[arg-type]
