"""The gateway's own tables on every database we support: migrations and users (and nothing else: the
gateway owns no business data, and Idempotency-Key records now live in the services)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect

from gateway.database import Database, migrate, open_database
from gateway.schema import Base
from gateway.users import ADMIN, Authenticator, ensure_bootstrap_admin


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    migrate(database_url)
    migrate(database_url)  # a second start finds nothing to do
    opened = open_database(database_url)
    yield opened
    opened.dispose()


def test_bootstrap_admin_and_login(database: Database) -> None:
    assert ensure_bootstrap_admin(database.sessions, "Root@Example.com", "a-long-admin-password")
    assert not ensure_bootstrap_admin(database.sessions, "Root@Example.com", "a-long-admin-password")
    authenticator = Authenticator(database.sessions)
    identity = authenticator.authenticate("root@example.com", "a-long-admin-password")
    assert identity is not None and identity.roles == (ADMIN,)
    assert authenticator.authenticate("root@example.com", "wrong") is None
    database.ping()


def test_migrations_leave_exactly_the_tables_the_schema_declares(database: Database) -> None:
    tables = set(inspect(database.engine).get_table_names()) - {"alembic_version"}
    assert (
        tables
        == set(Base.metadata.tables)
        == {  # 0002 dropped idempotency_records
            "users",
            "teams",
            "team_members",
            "custom_roles",
            "partner_accounts",
            "api_keys",
            "refresh_tokens",
            "login_throttle",
            "audit_events",
        }
    )
