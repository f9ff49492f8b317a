"""Migrations: contacts made before 0002 become standard resources, and the schema matches the models."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from contacts.main import DEFINITION
from contacts.store import Base, contacts
from crm_platform import migrations
from crm_platform.db import make_engine, make_session_factory, reading
from crm_platform.resources import etag_of, list_history

# A contact as 0001 stored it: "" for an unknown phone.
OLD_CONTACT = text("""
    INSERT INTO contacts (id, first_name, last_name, email, phone, company, created_at, updated_at)
    VALUES ('c1', 'Ada', 'Lovelace', 'ada@example.com', '', 'Babbage & Co', :now, :now)
""")


def test_existing_contacts_get_version_1_and_null_for_unknown_fields(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrations.upgrade(engine, DEFINITION.migrations_dir, "0001")
        now = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
        with engine.begin() as conn:
            conn.execute(OLD_CONTACT, {"now": now})
        migrations.upgrade(engine, DEFINITION.migrations_dir)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT version, phone, company, archived_at FROM contacts")).one()
            assert tuple(row) == (1, None, "Babbage & Co", None)
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        with reading(make_session_factory(engine)) as session:
            assert contacts.to_message(contacts.get(session, "c1")).etag == etag_of("c1", 1)
            assert list_history(session, "contact", "c1").items == []  # made before history existed
        command.downgrade(migrations.alembic_config(DEFINITION.migrations_dir, engine), "0001")
        with engine.connect() as conn:
            assert tuple(conn.execute(text("SELECT phone, company FROM contacts")).one()) == (
                "",
                "Babbage & Co",
            )
    finally:
        engine.dispose()
