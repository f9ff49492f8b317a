"""Alembic migrations per service, applied on start.

Each service keeps its revisions in `services/<name>/migrations/versions/` and a two-line `env.py` that
calls `run_migrations_online(metadata)`. No alembic.ini is needed: the config is built here, so the
`migrate` command, the service start-up and the tests all run migrations the same way.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Engine, MetaData, text

from crm_platform.postgres import lift_timeouts

# Any 64-bit number constant per platform: serialises migration runs of replicas starting together.
_PG_ADVISORY_LOCK_ID = 7_310_442_016


def alembic_config(migrations_dir: Path, engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, migrations_dir: Path, revision: str = "heads") -> None:
    # "heads", not "head": aggregates of one service developed side by side may branch from one revision
    # (each its own tables) until a merge revision joins them; every branch is applied either way.
    cfg = alembic_config(migrations_dir, engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as lock_conn:
            # Waiting for another replica's migration is expected: not a lock timeout.
            lift_timeouts(lock_conn)
            lock_conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _PG_ADVISORY_LOCK_ID})
            try:
                command.upgrade(cfg, revision)
            finally:
                lock_conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _PG_ADVISORY_LOCK_ID})
                lock_conn.commit()
    else:
        with _sqlite_migration_lock(engine):
            command.upgrade(cfg, revision)


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """Serialises the migration runs of the processes of one SQLite database (a service's `serve` and
    `worker` start together): each reads the current revision, then applies what is missing, and two
    that read before either wrote both create the same table ("index ... already exists", a crashed
    start). An exclusive lock on a file beside the database, held while one runs; nothing to lock for
    an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    with open(f"{database}.migrations.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_migrations_online(target_metadata: MetaData) -> None:
    """Body of every service's migrations/env.py."""
    engine: Engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=engine.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        )
        with context.begin_transaction():
            lift_timeouts(connection)  # a migration may rightly run, or wait for locks, for long
            context.run_migrations()
        connection.commit()
