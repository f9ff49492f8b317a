"""The gateway's own tables on every database we support: migrations, users, idempotency records."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Response

from gateway.database import Database, migrate, open_database
from gateway.idempotency import IdempotencyStore
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


def test_idempotency_record_round_trip(database: Database) -> None:
    store = IdempotencyStore(database.sessions)
    assert store.claim("u", "k", "h") is None
    store.complete("u", "k", Response(b'{"id": "1"}', status=201, headers={"Location": "/x/1"}))
    stored = store.claim("u", "k", "h")
    assert stored is not None
    assert (stored.status, stored.body, stored.headers) == (201, b'{"id": "1"}', {"Location": "/x/1"})
