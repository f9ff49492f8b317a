"""Database plumbing shared by every service: engine, sessions, transactions.

Each service owns exactly one database, named by `<SERVICE>_DATABASE_URL`. The embedded default is a
SQLite file under CRM_DATA_DIR, tuned so that a gRPC thread pool, an outbox relay and a consumer can
share it; PostgreSQL is used by changing the URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Dialect, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from crm_platform import config, postgres, sqlite_checkpoints
from crm_platform.sqlite_turns import TurnTakingConnection


def database_url(service: str) -> str:
    """The service's database URL: `<SERVICE>_DATABASE_URL`, else `sqlite:///<CRM_DATA_DIR>/<service>.db`."""
    url = config.database_url_setting(service).get()
    if url:
        return normalise_url(url)
    data_dir: Path = config.DATA_DIR.get()
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / f'{service}.db').resolve()}"


def normalise_url(url: str) -> str:
    """Accept the URLs operators usually have (`postgres://`, `postgresql://`) and pick our driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        make_url(url)
    except Exception as exc:
        raise config.ConfigError(f"database URL is not valid: {exc}") from None
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # One connection per thread; a long busy timeout because the relay, the consumer and the
        # request threads all write to the same file; writers take turns (sqlite_turns).
        connect_args = {"check_same_thread": False, "timeout": 30, "factory": TurnTakingConnection}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            # Commits do not checkpoint the log; a thread does, off the writers' path.
            sqlite_checkpoints.watch(str(Path(database).resolve()), engine)
        return engine
    return postgres.make_engine(url, **kwargs)


# Execution option marking a connection whose transaction only reads (see `reading`).
READ_ONLY = "crm_read_only"


def _sqlite_begin(conn: Connection) -> None:
    # A deferred transaction that reads and then writes can deadlock with another writer (neither can
    # upgrade its lock), so writers take the write lock up front with BEGIN IMMEDIATE and queue instead.
    # Read-only transactions must not: in WAL mode readers never block anyone, and serialising them
    # behind writers was measured to cost latency under load (bench/PROFILE.md).
    # Writers first wait for their turn (sqlite_turns), so the lock passes promptly and in fairness.
    if conn.get_execution_options().get(READ_ONLY, False):
        conn.exec_driver_sql("BEGIN")
        return
    dbapi_connection = conn.connection.dbapi_connection
    if not isinstance(dbapi_connection, TurnTakingConnection):  # an engine made without make_engine
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        return
    dbapi_connection.take_turn()
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        dbapi_connection.give_turn_back()
        raise


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # sqlite_checkpoints does it
    # Statement journals and sorts in memory: on disk (/var/tmp) an import chunk wrote thousands of
    # pages to them for nothing.
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for queries only: its transaction never takes the write lock, and is never committed."""
    session = factory()
    try:
        # A session already in a transaction (an import chunk's, lent to the service's read methods)
        # reads within it: its connection is chosen, and only a new one could be made read-only.
        if not session.in_transaction():
            session.connection(execution_options={READ_ONLY: True})
        yield session
    finally:
        session.close()  # rolls back: there is nothing to keep


@contextmanager
def reading_connection(factory: sessionmaker[Session]) -> Iterator[Connection]:
    """A plain connection for Core reads, like `reading` without the Session: setting up and closing an
    ORM session cost about a quarter of a Get's CPU, on the path of every customer-360 view."""
    engine: Engine = factory.kw["bind"]
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        yield connection


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed when the block ends normally and rolled back otherwise."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps are stored as naive UTC and always come back timezone-aware (UTC), on every backend;
    SQLite has no time zones, and mixing aware and naive values breaks ordering and comparisons."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
