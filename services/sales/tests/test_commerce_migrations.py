"""0004_catalog_orders and 0005_payment_notes: the catalogue-and-orders branch comes off (down to
0003_resource_tables, which the other branches stand on) and back on, and the schema then matches the
models (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from crm_platform import migrations
from crm_platform.db import make_engine
from sales.main import DEFINITION
from sales.store import Base

COMMERCE_TABLES = {"products", "price_lists", "price_list_partners", "partner_terms", "orders", "payments"}


def test_the_commerce_branch_comes_off_and_back_on(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrations.upgrade(engine, DEFINITION.migrations_dir)
        config = migrations.alembic_config(DEFINITION.migrations_dir, engine)
        command.downgrade(config, "0003_resource_tables")
        tables = set(inspect(engine).get_table_names())
        assert not tables & COMMERCE_TABLES
        assert {"history", "idempotency_keys"} <= tables  # what the other branches stand on stays
        migrations.upgrade(engine, DEFINITION.migrations_dir)
        assert set(inspect(engine).get_table_names()) >= COMMERCE_TABLES
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()
