"""Migrations: contacts made before 0002 become standard resources, contacts made before 0005 get their
uniqueness book, and the schema matches the models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

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


def _contact(contact_id: str, email: str, partner: str | None) -> dict[str, object]:
    now = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    return {"id": contact_id, "email": email, "partner": partner, "now": now}


# Contacts as 0004 and 0005 store them.
INSERT_0004 = text("""
    INSERT INTO contacts (id, first_name, last_name, email, created_at, updated_at, version,
                          partner_account_id)
    VALUES (:id, 'Ada', 'Lovelace', :email, :now, :now, 1, :partner)
""")

INSERT_0005 = text("""
    INSERT INTO contacts (id, first_name, last_name, email, created_at, updated_at, version,
                          partner_account_id, uniqueness_book)
    VALUES (:id, 'Ada', 'Lovelace', :email, :now, :now, 1, :partner, :book)
""")


def test_emails_become_unique_per_book_with_existing_contacts_in_theirs(database_url: str) -> None:
    """0005 puts every contact in its book (its partner account's, or the company's: ""), and from then
    on one email may be in several books but only once in each; downgrading restores the global rule
    while no email is in two books, and upgrading again works on the restored constraint."""
    engine = make_engine(database_url)
    config = migrations.alembic_config(DEFINITION.migrations_dir, engine)
    try:
        migrations.upgrade(engine, DEFINITION.migrations_dir, "0004")
        with engine.begin() as conn:
            conn.execute(INSERT_0004, _contact("c1", "ada@example.com", None))
            conn.execute(INSERT_0004, _contact("c2", "bob@example.com", "p1"))
        migrations.upgrade(engine, DEFINITION.migrations_dir)
        books = text("SELECT id, uniqueness_book FROM contacts ORDER BY id")
        with engine.connect() as conn:
            assert [tuple(row) for row in conn.execute(books)] == [("c1", ""), ("c2", "p1")]
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        with engine.begin() as conn:  # the same email in another book
            conn.execute(INSERT_0005, {**_contact("c3", "ada@example.com", "p1"), "book": "p1"})
        with pytest.raises(IntegrityError), engine.begin() as conn:  # twice in one book
            conn.execute(INSERT_0005, {**_contact("c4", "bob@example.com", "p1"), "book": "p1"})

        with engine.begin() as conn:
            conn.execute(text("DELETE FROM contacts WHERE id = 'c3'"))
        command.downgrade(config, "0004")
        with pytest.raises(IntegrityError), engine.begin() as conn:  # global again
            conn.execute(INSERT_0004, _contact("c5", "bob@example.com", "p2"))
        migrations.upgrade(engine, DEFINITION.migrations_dir)
        with engine.connect() as conn:
            assert [tuple(row) for row in conn.execute(books)] == [("c1", ""), ("c2", "p1")]
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()
