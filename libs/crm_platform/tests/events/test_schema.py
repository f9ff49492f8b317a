"""Outbox/inbox schema: the frozen v1 migration step builds exactly what the model describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import MetaData, inspect

from crm_platform.db import make_engine
from crm_platform.events import create_messaging_tables_v1, drop_messaging_tables_v1, messaging_tables


def test_messaging_tables_are_added_once_per_metadata() -> None:
    metadata = MetaData()
    first = messaging_tables(metadata)
    again = messaging_tables(metadata)
    assert first.outbox is again.outbox and first.inbox is again.inbox
    assert [c.name for c in first.inbox.primary_key] == ["consumer", "event_id"]
    assert {i.name for i in first.outbox.indexes} == {"ix_outbox_unpublished"}


def test_v1_migration_matches_the_model_and_downgrades(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            create_messaging_tables_v1(Operations(MigrationContext.configure(conn)))
        model = MetaData()
        messaging_tables(model)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), model) == []
        assert {i["name"] for i in inspect(engine).get_indexes("outbox")} == {"ix_outbox_unpublished"}

        with engine.begin() as conn:
            drop_messaging_tables_v1(Operations(MigrationContext.configure(conn)))
        assert not {"outbox", "inbox"} & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
