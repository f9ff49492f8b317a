"""Migrations: the sales schema matches the models at every head, and 0004_leads_deals (with
0005_lead_form_hits above it) goes down and up again, leaving the default pipeline in place; 0008
backfills the funnel's rollup from the deals and stage changes already there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, text
from sqlalchemy.orm import Session

from crm_platform import migrations
from crm_platform.db import make_engine
from sales.deals.store import DEFAULT_PIPELINE_ID, Deal, DealStageChange
from sales.main import DEFINITION
from sales.reports import rollup
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
    "funnel_months",
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


def test_0008_backfills_the_funnel_rollup_from_the_stage_history(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        config = migrations.alembic_config(DEFINITION.migrations_dir, engine)
        command.upgrade(config, "0007_quota_notes")
        with engine.begin() as conn:
            stages = (
                conn.execute(
                    text("SELECT id FROM pipeline_stages WHERE pipeline_id = :p ORDER BY position"),
                    {"p": DEFAULT_PIPELINE_ID},
                )
                .scalars()
                .all()
            )
            at = datetime(2026, 1, 30, 12, tzinfo=UTC)
            for index, owner in enumerate(("ann", "bo", "ann")):
                deal_id = f"deal-{index}"
                path = [stages[0], stages[2], stages[1]][: index + 1]
                conn.execute(
                    insert(Deal),
                    {
                        "id": deal_id,
                        "title": "existing",
                        "pipeline_id": DEFAULT_PIPELINE_ID,
                        "stage_id": path[-1],
                        "stage_position": 0,
                        "position": 0,
                        "status": "won" if index == 1 else "open",
                        "amount_minor": 1000 * (index + 1),
                        "currency": "EUR",
                        "probability": 10,
                        "closed_at": at + timedelta(days=9) if index == 1 else None,
                        "stage_entered_at": at,
                        "version": 1,
                        "created_at": at,
                        "updated_at": at,
                        "owner_id": owner,
                        "team_id": "team",
                    },
                )
                for step, stage_id in enumerate(path):
                    conn.execute(
                        insert(DealStageChange),
                        {
                            "deal_id": deal_id,
                            "pipeline_id": DEFAULT_PIPELINE_ID,
                            "to_stage_id": stage_id,
                            "actor_id": "before-0008",
                            "changed_at": at + timedelta(days=3 * step),
                        },
                    )
        migrations.upgrade(engine, DEFINITION.migrations_dir)
        with Session(engine) as session:
            stored = rollup.stored(session)
            assert stored == rollup.recompute(session)
        months = {key.month for key in stored}
        assert months == {"2026-01", "2026-02"}
        assert sum(figures[0] for figures in stored.values()) == 6  # entered_month: 1 + 2 + 3 entries
    finally:
        engine.dispose()
