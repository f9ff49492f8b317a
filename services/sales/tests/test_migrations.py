"""Migrations: the sales schema matches the models at every head, and 0004_leads_deals (with
0005_lead_form_hits above it) goes down and up again, leaving the default pipeline in place."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from crm_platform import migrations
from crm_platform.db import make_engine
from sales.main import DEFINITION
from sales.store import Base

MINE = {
    "leads",
    "lead_scoring_rules",
    "lead_assignment_rules",
    "lead_forms",
    "lead_activities",
    "pipelines",
    "pipeline_stages",
    "deals",
    "deal_stage_changes",
    "lead_form_hits",
}


def _diff(engine: object) -> list[object]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def test_the_schema_matches_the_models_and_0004_goes_down_and_up(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrations.upgrade(engine, DEFINITION.migrations_dir)
        assert _diff(engine) == []
        with engine.connect() as conn:
            default = conn.execute(text("SELECT name FROM pipelines WHERE is_default")).scalars().all()
            stages = conn.execute(text("SELECT count(*) FROM pipeline_stages")).scalar()
        assert (default, stages) == (["Sales"], 4)
        command.downgrade(
            migrations.alembic_config(DEFINITION.migrations_dir, engine), "0003_resource_tables"
        )
        assert not MINE & set(inspect(engine).get_table_names())
        migrations.upgrade(engine, DEFINITION.migrations_dir)
        assert set(inspect(engine).get_table_names()) >= MINE
        assert _diff(engine) == []
    finally:
        engine.dispose()
