"""Migration 0003: notifications stored before ownership existed keep none (NULL: only callers reading
every notification see them), the schema matches the model, and the step goes back down."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from crm_platform import migrations
from crm_platform.db import make_engine, make_session_factory, reading
from notifications import store
from notifications.main import DEFINITION
from notifications.store import Base

from .conftest import caller

OLD_WELCOME = text("""
    INSERT INTO notifications (id, contact_id, kind, channel, title, body, source_event_id, created_at)
    VALUES ('n1', 'c1', 'welcome', 'in_app', 'Welcome, Ada!', 'Hello Ada', 'e1', :now)
""")


def test_notifications_before_ownership_have_none_and_the_schema_matches(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrations.upgrade(engine, DEFINITION.migrations_dir, "0002")
        with engine.begin() as conn:
            conn.execute(OLD_WELCOME, {"now": datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)})
        migrations.upgrade(engine, DEFINITION.migrations_dir)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT owner_id, team_id, partner_account_id FROM notifications")).one()
            assert tuple(row) == (None, None, None)
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        with reading(make_session_factory(engine)) as session:
            assert [
                n.id for n in store.list_notifications(session, caller("a", "admin"), "", 10, "").items
            ] == ["n1"]
            for who in (caller("r", "sales_rep", ("t",)), caller("p", "partner", (), "p1")):
                assert store.list_notifications(session, who, "", 10, "").items == []
        command.downgrade(migrations.alembic_config(DEFINITION.migrations_dir, engine), "0002")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT id, title FROM notifications")).one() == ("n1", "Welcome, Ada!")
        migrations.upgrade(engine, DEFINITION.migrations_dir)
    finally:
        engine.dispose()
