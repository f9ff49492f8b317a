"""SQL the resources modules share that SQLAlchemy spells differently per backend."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, table: Table, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was inserted.

    On PostgreSQL an insert that meets an uncommitted row with the same key waits for that transaction
    and then does nothing (or inserts, if it rolled back); unlike catching IntegrityError it leaves the
    transaction usable. On SQLite writers are already serialised (BEGIN IMMEDIATE, see crm_platform.db).
    """
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"insert_ignore does not know {dialect}")
    # RETURNING rather than rowcount, which PostgreSQL drivers leave at -1 for this statement.
    statement = module.insert(table).values(**values).on_conflict_do_nothing()
    return session.execute(statement.returning(*table.primary_key.columns)).first() is not None
