"""Many rows into one table in one statement, without SQLAlchemy's handling of each row's parameters.

`session.execute(insert(table), [dict, ...])` builds and processes a parameter set per row (~3-5 µs a
row on SQLite, more with many columns); a batch that writes tens of rows per record (an import chunk's
search terms and typo keys, its contacts and their history) spends more there than in SQLite itself.
`insert_rows` takes the rows as tuples in a given column order, converts each column's values once
with that column type's own bind processor (JSON, UtcDateTime: the values SQLAlchemy would send), and
hands the statement SQLAlchemy compiled to the driver's executemany. On PostgreSQL the rows go through
COPY instead (the same converted values, written by psycopg's C copy): an executemany there is a
statement per row on the server, and an import chunk writes ~13 search terms a contact. Rows that may
conflict (`ignore_conflicts`) are copied to a staging table and inserted from it with ON CONFLICT DO
NOTHING, which COPY cannot say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Dialect, Insert, Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """INSERT each of `rows` (values in the order of `columns`; the other columns get NULL or their SQL
    default, so none may have a Python-side default: checked) into `table`, in `session`'s transaction
    (like any Core statement, without flushing the session's objects). `ignore_conflicts`: ON CONFLICT
    DO NOTHING (a row whose key is there already is left out)."""
    values = rows if isinstance(rows, list) else list(rows)
    if not values:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        _copy(connection, table, tuple(columns), values, ignore_conflicts)
        return
    if dialect.name != "sqlite":
        names = tuple(columns)
        connection.execute(
            _insert(table, dialect, ignore_conflicts), [dict(zip(names, row, strict=True)) for row in values]
        )
        return
    statement, order, processors = _compiled(table, tuple(columns), dialect, ignore_conflicts)
    if order is not None:
        values = [tuple(row[i] for i in order) for row in values]
    if processors:
        values = [_processed(row, processors) for row in values]
    connection.exec_driver_sql(statement, values)


Processor = Callable[[Any], Any]


def _copy(
    connection: Connection,
    table: Table,
    columns: tuple[str, ...],
    rows: list[Sequence[Any]],
    ignore_conflicts: bool,
) -> None:
    """COPY `rows` into `table` through the session's own driver connection (its transaction), each
    value converted by its column type's bind processor as an INSERT would send it. `ignore_conflicts`:
    into a temporary staging table first (dropped at commit), then INSERT ... SELECT ... ON CONFLICT DO
    NOTHING in the columns' order (so concurrent writers take the keys' locks in one order). A database
    error is raised as SQLAlchemy raises a statement's (IntegrityError, OperationalError, ...), so
    callers tell them apart the same way."""
    dialect = connection.dialect
    processors = _processors(table, columns, dialect)
    target = sql.Identifier(*((table.schema, table.name) if table.schema else (table.name,)))
    names = sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    staging = sql.Identifier(f"crm_staging_{table.name}")
    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            if ignore_conflicts:
                cursor.execute(
                    sql.SQL(
                        "CREATE TEMPORARY TABLE IF NOT EXISTS {} ON COMMIT DROP"
                        " AS SELECT {} FROM {} WITH NO DATA"
                    ).format(staging, names, target)
                )
            into = staging if ignore_conflicts else target
            with cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(into, names)) as copy:
                for row in rows:
                    copy.write_row(_processed(row, processors) if processors else row)
            if ignore_conflicts:
                cursor.execute(
                    sql.SQL(
                        "INSERT INTO {} ({}) SELECT {} FROM {} ORDER BY {} ON CONFLICT DO NOTHING"
                    ).format(target, names, names, staging, names)
                )
                cursor.execute(sql.SQL("DELETE FROM {}").format(staging))
    except psycopg.Error as error:
        raise DBAPIError.instance(
            f"COPY {table.name}", None, error, psycopg.Error, dialect=dialect
        ) from error


@lru_cache(maxsize=256)
def _processors(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[tuple[int, Processor], ...]:
    """The bind processors of rows COPY writes (`_bind_processors`); ValueError when a column left out
    has a Python-side default, which an INSERT would apply and COPY cannot."""
    defaulted = [c.name for c in table.c if c.name not in columns and c.default is not None]
    if defaulted:
        raise ValueError(f"{table.name}: columns {defaulted} have a Python-side default")
    return _bind_processors(table, columns, dialect)


def _bind_processors(
    table: Table, columns: Sequence[str], dialect: Dialect
) -> tuple[tuple[int, Processor], ...]:
    """(position in `columns`, bind processor) of each column whose type converts its values."""
    found = []
    for position, name in enumerate(columns):
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            found.append((position, processor))
    return tuple(found)


def _insert(table: Table, dialect: Dialect, ignore_conflicts: bool) -> Insert:
    if not ignore_conflicts:
        return insert(table)
    if dialect.name not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"insert_rows cannot ignore conflicts on {dialect.name}")
    module: Any = postgresql if dialect.name == "postgresql" else sqlite
    statement: Insert = module.insert(table).on_conflict_do_nothing()
    return statement


@lru_cache(maxsize=256)  # per table, columns and engine's dialect (its JSON serializer, say)
def _compiled(
    table: Table, columns: tuple[str, ...], dialect: Dialect, ignore_conflicts: bool
) -> tuple[str, tuple[int, ...] | None, tuple[tuple[int, Processor], ...]]:
    """The INSERT of `columns` as the dialect's text; where its placeholders take each value from in a
    row given in `columns`' order (None: that order already); and (placeholder, bind processor) for each
    column whose type converts its values."""
    statement = _insert(table, dialect, ignore_conflicts)
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    placed = tuple(compiled.positiontup or ())
    if sorted(placed) != sorted(columns):  # a column's Python-side default would add a parameter
        raise ValueError(f"{table.name}: the INSERT's parameters {placed} are not {columns}")
    order = None if placed == columns else tuple(columns.index(name) for name in placed)
    return compiled.string, order, _bind_processors(table, placed, dialect)


def _processed(row: Sequence[Any], processors: tuple[tuple[int, Processor], ...]) -> tuple[Any, ...]:
    converted = list(row)
    for position, processor in processors:  # None too, as SQLAlchemy does (a JSON column may store null)
        converted[position] = processor(converted[position])
    return tuple(converted)
