"""The tables every service with resources keeps in its own database: change history, idempotency
claims and the service's own secrets.

As with the outbox and inbox (crm_platform.events.schema), the column definitions are versioned
functions: the tables the chassis queries and the frozen `create_resource_tables_v1` migration step both
build from them, so they cannot drift. A later change adds `_v2` functions and a `_v2` step; the `_v1`
ones never change, because old migrations must replay as they first ran.

The chassis queries its own copy of each table (they are the same in every service database), so its
functions need only a session; `resource_tables(metadata)` adds the same tables to a service's metadata
so that `metadata.create_all` and Alembic see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, MetaData, String, Table, Text

from crm_platform.db import UtcDateTime

HISTORY = "history"
IDEMPOTENCY_KEYS = "idempotency_keys"
PLATFORM_SECRETS = "platform_secrets"
_HISTORY_INDEX = "ix_history_resource"
_IDEMPOTENCY_INDEX = "ix_idempotency_keys_created_at"


@dataclass(frozen=True)
class ResourceTables:
    history: Table
    idempotency_keys: Table
    platform_secrets: Table


def _history_v1() -> list[Column[Any]]:
    return [
        # A sequence, not a UUID: within one resource it orders changes as they were committed (each
        # change locks the resource row before it writes its entry), which is what "newest first" means.
        Column(
            "id",
            BigInteger().with_variant(Integer, "sqlite"),  # SQLite auto-increments INTEGER keys only
            primary_key=True,
            autoincrement=True,
        ),
        Column("resource_type", String(64), nullable=False),
        Column("resource_id", String(64), nullable=False),
        Column("action", String(16), nullable=False),
        Column("actor_id", String(255), nullable=False),
        Column("occurred_at", UtcDateTime(), nullable=False),
        # JSON list of {"field", "old", "new"}: text rather than a JSON column, the same on every backend.
        Column("changes", Text, nullable=False),
    ]


def _idempotency_keys_v1() -> list[Column[Any]]:
    return [
        # Keys belong to a caller: two users can never see each other's responses.
        Column("user_id", String(255), primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("method", String(255), nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("response", LargeBinary, nullable=True),
        Column("created_at", UtcDateTime(), nullable=False),
    ]


def _platform_secrets_v1() -> list[Column[Any]]:
    return [
        Column("name", String(64), primary_key=True),
        Column("value", LargeBinary, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
    ]


def _build(metadata: MetaData) -> ResourceTables:
    history = Table(HISTORY, metadata, *_history_v1())
    Index(_HISTORY_INDEX, history.c.resource_type, history.c.resource_id, history.c.id)
    keys = Table(IDEMPOTENCY_KEYS, metadata, *_idempotency_keys_v1())
    Index(_IDEMPOTENCY_INDEX, keys.c.created_at)
    secrets = Table(PLATFORM_SECRETS, metadata, *_platform_secrets_v1())
    return ResourceTables(history, keys, secrets)


# What the chassis' own queries use.
TABLES = _build(MetaData())


def resource_tables(metadata: MetaData) -> ResourceTables:
    """Add (once) the history, idempotency and secrets tables to a service's metadata and return them."""
    if HISTORY in metadata.tables:
        tables = metadata.tables
        return ResourceTables(tables[HISTORY], tables[IDEMPOTENCY_KEYS], tables[PLATFORM_SECRETS])
    return _build(metadata)


def create_resource_tables_v1(op: Any) -> None:
    """Alembic upgrade step (pass the migration's `op`): create the three tables as of v1."""
    op.create_table(HISTORY, *_history_v1())
    op.create_index(_HISTORY_INDEX, HISTORY, ["resource_type", "resource_id", "id"])
    op.create_table(IDEMPOTENCY_KEYS, *_idempotency_keys_v1())
    op.create_index(_IDEMPOTENCY_INDEX, IDEMPOTENCY_KEYS, ["created_at"])
    op.create_table(PLATFORM_SECRETS, *_platform_secrets_v1())


def drop_resource_tables_v1(op: Any) -> None:
    """Alembic downgrade step matching `create_resource_tables_v1`."""
    op.drop_table(PLATFORM_SECRETS)
    op.drop_index(_IDEMPOTENCY_INDEX, table_name=IDEMPOTENCY_KEYS)
    op.drop_table(IDEMPOTENCY_KEYS)
    op.drop_index(_HISTORY_INDEX, table_name=HISTORY)
    op.drop_table(HISTORY)
