"""Throw-away PostgreSQL databases: one per test, dropped (with FORCE) afterwards."""

from __future__ import annotations

import re
import secrets

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from crm_platform import config

POSTGRES_ADMIN_URL = config.Setting(
    "CRM_TEST_POSTGRES_URL",
    config.as_str,
    default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    help="tests only: a PostgreSQL URL allowed to create and drop databases",
    secret=True,
)


def postgres_admin_url() -> str:
    return POSTGRES_ADMIN_URL.get()


def _libpq_dsn(url: URL) -> str:
    # psycopg takes a libpq URI, which has no "+driver" part.
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _admin_connection(timeout: int = 5) -> psycopg.Connection:
    return psycopg.connect(
        _libpq_dsn(make_url(postgres_admin_url())), autocommit=True, connect_timeout=timeout
    )


def postgres_reachable() -> bool:
    try:
        with _admin_connection(timeout=2) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def create_database(prefix: str) -> str:
    """Create `crm_test_<prefix>_<random hex>` and return its SQLAlchemy URL (psycopg driver)."""
    # Test names carry brackets and dashes; PostgreSQL identifiers stop at 63 bytes.
    safe = re.sub(r"[^a-z0-9_]+", "_", prefix.lower()).strip("_")[:30]
    name = f"crm_test_{safe}_{secrets.token_hex(4)}"
    with _admin_connection() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(postgres_admin_url()).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database named by `url`, closing whatever connections still use it."""
    name = make_url(url).database
    if not name:
        raise ValueError(f"no database name in {make_url(url)!r}")
    with _admin_connection() as conn:
        _drop(conn, name)


def has_tables(url: str) -> bool:
    """Whether the database named by `url` holds any table in its default schema."""
    with psycopg.connect(_libpq_dsn(make_url(url)), connect_timeout=5) as conn:
        row = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()
    return bool(row and row[0])


def replace_with_copy(url: str, template: str) -> None:
    """Make the database named by `url` a fresh copy of database `template` (nobody may be connected to
    `template`: PostgreSQL copies only an idle one)."""
    name = str(make_url(url).database)
    with _admin_connection() as conn:
        _drop(conn, name)
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        )


def _drop(conn: psycopg.Connection, name: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
