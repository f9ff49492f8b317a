"""insert_rows stores exactly what SQLAlchemy's own executemany stores (JSON, UTC timestamps, nulls),
and ignores rows whose key is taken when asked to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    cast,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError

from crm_platform.bulk import insert_rows
from crm_platform.db import UtcDateTime, make_engine, make_session_factory, transaction

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", String(10), primary_key=True),
    Column("size", Integer, nullable=True),
    Column("at", UtcDateTime, nullable=True),
    Column("tags", JSON, nullable=True),  # None is stored as JSON null here
    Column("extra", JSON(none_as_null=True), nullable=True),  # and as SQL NULL here
)

ROWS = [
    ("a", 1, datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), ["x", "é"], {"k": [1, None]}),
    ("b", None, datetime(2026, 1, 2, 9, 0, tzinfo=timezone(timedelta(hours=5))), None, None),
    ("c", 3, None, [], {}),
]
COLUMNS = ("id", "size", "at", "tags", "extra")


def stored(connection: Connection, table: Table) -> list[tuple[object, ...]]:
    """What the database holds, not what SQLAlchemy reads back: the columns as plain text."""
    columns = [cast(table.c[name], Text) for name in COLUMNS]
    return [tuple(row) for row in connection.execute(select(*columns).order_by(table.c.id))]


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_rows_are_stored_as_sqlalchemy_stores_them(database_url: str) -> None:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    twin = things.to_metadata(MetaData(), name="things_twin")
    twin.create(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        insert_rows(session, things, COLUMNS, ROWS)
        session.execute(insert(twin), [dict(zip(COLUMNS, row, strict=True)) for row in ROWS])
    with engine.connect() as connection:
        assert stored(connection, things) == stored(connection, twin)
        assert connection.execute(select(things.c.at).where(things.c.id == "b")).scalar_one() == datetime(
            2026, 1, 2, 4, 0, tzinfo=UTC
        )
        nulls = connection.execute(
            text("SELECT tags IS NULL, extra IS NULL FROM things WHERE id = 'b'")
        ).one()
        assert tuple(nulls) == (False, True)
    engine.dispose()


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_conflicting_rows_are_left_out_when_asked(database_url: str) -> None:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        insert_rows(session, things, ("id", "size"), [("a", 1)])
        insert_rows(session, things, ("id", "size"), [("a", 2), ("b", 3)], ignore_conflicts=True)
        # Again in the same transaction, a key twice in the batch (PostgreSQL stages the rows: the
        # staging table must start empty each time).
        insert_rows(session, things, ("id", "size"), [("c", 4), ("c", 5), ("b", 6)], ignore_conflicts=True)
    with transaction(sessions) as session:  # and in the next transaction
        insert_rows(session, things, ("id", "size"), [("d", 7), ("a", 8)], ignore_conflicts=True)
    with engine.connect() as connection:
        assert connection.execute(select(things.c.id, things.c.size).order_by(things.c.id)).all() == [
            ("a", 1),
            ("b", 3),
            ("c", 4),
            ("d", 7),
        ]
    engine.dispose()


BOTH = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@BOTH
def test_columns_out_of_the_tables_order_are_placed_by_name(database_url: str) -> None:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        insert_rows(session, things, ("size", "id"), [(7, "z")])
    with engine.connect() as connection:
        assert connection.execute(select(things.c.id, things.c.size)).one() == ("z", 7)
    engine.dispose()


@BOTH
def test_a_taken_key_is_the_integrity_error_an_insert_raises(database_url: str) -> None:
    """Callers (an import's batch) tell a taken key from an outage by SQLAlchemy's exception classes,
    whichever way the rows went in (COPY on PostgreSQL); nothing of the refused batch stays."""
    engine = make_engine(database_url)
    metadata.create_all(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        insert_rows(session, things, ("id", "size"), [("a", 1)])
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        insert_rows(session, things, ("id", "size"), [("b", 2), ("a", 3)])
    with engine.connect() as connection:
        assert connection.execute(select(things.c.id, things.c.size)).all() == [("a", 1)]
    engine.dispose()


@BOTH
def test_a_column_left_to_a_python_side_default_is_refused(database_url: str) -> None:
    """The driver would not compute it: rather an error than a NULL where SQLAlchemy would have filled it."""
    defaults = Table(
        "defaults", MetaData(), Column("id", String(10), primary_key=True), Column("n", Integer, default=5)
    )
    engine = make_engine(database_url)
    defaults.create(engine)
    sessions = make_session_factory(engine)
    with pytest.raises(ValueError, match=r"default|parameters"), transaction(sessions) as session:
        insert_rows(session, defaults, ("id",), [("a",)])
    engine.dispose()
