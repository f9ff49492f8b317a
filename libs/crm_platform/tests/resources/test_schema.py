"""The migration step creates exactly the tables the chassis queries, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import MetaData, inspect

from crm_platform.db import make_engine
from crm_platform.resources import create_resource_tables_v1, drop_resource_tables_v1, resource_tables

NAMES = {"history", "idempotency_keys", "platform_secrets"}


def test_migration_step_matches_the_model_and_drops_cleanly(database_url: str) -> None:
    metadata = MetaData()
    tables = resource_tables(metadata)
    assert resource_tables(metadata) == tables  # added once
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            create_resource_tables_v1(Operations(MigrationContext.configure(conn)))
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        with engine.begin() as conn:
            drop_resource_tables_v1(Operations(MigrationContext.configure(conn)))
        assert not NAMES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
