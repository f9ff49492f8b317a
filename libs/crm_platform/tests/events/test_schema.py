"""Messaging schema: the frozen migration steps build exactly what the model describes, and v1 -> v2
carries unpublished events over."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import MetaData, column, inspect, select, table

from crm_platform.db import make_engine
from crm_platform.events import messaging_tables
from crm_platform.events.schema import (
    create_messaging_tables_v1,
    downgrade_messaging_tables_v2,
    drop_messaging_tables_v1,
    upgrade_messaging_tables_v2,
)


def test_messaging_tables_are_added_once_per_metadata() -> None:
    metadata = MetaData()
    first = messaging_tables(metadata)
    again = messaging_tables(metadata)
    assert first == again
    assert [c.name for c in first.inbox.primary_key] == ["consumer", "event_id"]
    assert [c.name for c in first.positions.primary_key] == ["consumer", "aggregate_type", "aggregate_id"]
    assert {i.name for i in first.outbox.indexes} == {
        "ix_event_outbox_pending",
        "ix_event_outbox_published_at",
    }


def test_v1_then_v2_migration_matches_the_model_carries_pending_rows_and_downgrades(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            ops = Operations(MigrationContext.configure(conn))
            create_messaging_tables_v1(ops)
            v1 = table(
                "outbox",
                *(column(n) for n in ("id", "exchange", "routing_key", "payload", "headers")),
                column("created_at"),
                column("published_at"),
                column("attempts"),
            )
            now = datetime.now(UTC)
            conn.execute(
                v1.insert(),
                [
                    {
                        "id": "pending",
                        "exchange": "contacts.events",
                        "routing_key": "contact_created",
                        "payload": "{}",
                        "headers": "{}",
                        "created_at": now,
                        "published_at": None,
                        "attempts": 0,
                    },
                    {
                        "id": "sent",
                        "exchange": "contacts.events",
                        "routing_key": "contact_created",
                        "payload": "{}",
                        "headers": "{}",
                        "created_at": now,
                        "published_at": now,
                        "attempts": 1,
                    },
                ],
            )
            upgrade_messaging_tables_v2(ops)
        model = MetaData()
        tables = messaging_tables(model)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), model) == []
            rows = conn.execute(select(tables.outbox)).all()
            assert [(r.id, r.aggregate_id, r.sequence, r.published_at) for r in rows] == [
                ("pending", "pending", 1, None)
            ]
            assert conn.execute(select(tables.lease.c.name)).scalars().all() == ["outbox"]

        with engine.begin() as conn:
            ops = Operations(MigrationContext.configure(conn))
            downgrade_messaging_tables_v2(ops)
            drop_messaging_tables_v1(ops)
        assert not set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
