"""The gateway's own database: migrate it, open it, ask whether it answers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from crm_platform import db, migrations

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    def ping(self) -> None:
        """Raises if the database does not answer a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def migrate(url: str) -> None:
    engine = db.make_engine(url)
    try:
        migrations.upgrade(engine, MIGRATIONS_DIR)
    finally:
        # Never let pooled connections cross a fork into the workers.
        engine.dispose()


def open_database(url: str) -> Database:
    """Opens an already migrated database (migrations run once, in `crm-gateway serve|migrate`)."""
    engine = db.make_engine(url)
    return Database(engine, db.make_session_factory(engine))
