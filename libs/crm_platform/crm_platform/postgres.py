"""PostgreSQL engines: pool sizes, statement and lock timeouts, and what PgBouncer's transaction mode needs.

Timeouts. A call whose caller gave up (its gRPC deadline passed) still runs its SQL to the end, holding a
handler thread, a pooled connection and perhaps row locks. `statement_timeout` bounds any one statement,
`lock_timeout` any wait for a lock (a stuck transaction then costs its waiters an error, not a pile-up),
`idle_in_transaction_session_timeout` a transaction left open by a client that went away.

How they are applied depends on what sits between us and PostgreSQL:
- directly: as libpq `options` in the startup packet, so they cost nothing per transaction;
- through PgBouncer in transaction mode (`CRM_DB_PGBOUNCER=1`, or `?pgbouncer=true` on the URL): PgBouncer
  refuses the `options` startup parameter (unless told to ignore it, and then they would silently be
  lost), and a session-level `SET` would stick to whichever server connection ran it and leak to other
  clients. So each transaction sets them for itself (`set_config(..., is_local => true)`, one round
  trip, all three at once). Operators who prefer zero round trips set them on the role instead
  (`ALTER ROLE crm SET statement_timeout = '5s'` ...) and keep the defaults here as a second line.
  Transaction mode also breaks server-side prepared statements (the next transaction may run on another
  server connection), so psycopg's automatic preparing is switched off (`prepare_threshold=None`).

Pool sizes: see README.md ("Scaling and PgBouncer") for deriving them from replicas.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from crm_platform import config

# The gRPC server runs CRM_GRPC_MAX_WORKERS (8) handler threads, plus the relay and housekeeping threads
# of the process: 10 connections cover them all without waiting; the overflow absorbs a burst of the
# consumer's handler pool. Every connection counts against PgBouncer's max_client_conn (or PostgreSQL's
# max_connections without it), multiplied by the replicas.
POOL_SIZE = config.Setting(
    "CRM_DB_POOL_SIZE",
    config.positive_int,
    default="10",
    help="connections each process keeps open to its PostgreSQL database (per replica and process)",
)
MAX_OVERFLOW = config.Setting(
    "CRM_DB_MAX_OVERFLOW",
    config.as_int,
    default="5",
    help="connections a process may open beyond CRM_DB_POOL_SIZE under a burst (closed when returned)",
)
# Above the gateway's call deadlines (1-2 s) with room to spare, so a legitimate but slow statement is
# not cut while its caller still waits; low enough that a runaway query frees its thread within seconds.
STATEMENT_TIMEOUT_MS = config.Setting(
    "CRM_DB_STATEMENT_TIMEOUT_MS",
    config.as_int,
    default="5000",
    help="PostgreSQL statement_timeout of every session in milliseconds (0: none)",
)
LOCK_TIMEOUT_MS = config.Setting(
    "CRM_DB_LOCK_TIMEOUT_MS",
    config.as_int,
    default="2000",
    help="PostgreSQL lock_timeout in milliseconds: the longest wait for a row or table lock (0: none)",
)
IDLE_IN_TRANSACTION_TIMEOUT_MS = config.Setting(
    "CRM_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS",
    config.as_int,
    default="30000",
    help="PostgreSQL idle_in_transaction_session_timeout in milliseconds (0: none)",
)
PGBOUNCER = config.Setting(
    "CRM_DB_PGBOUNCER",
    config.as_bool,
    default="false",
    help="the database URL points at PgBouncer in transaction mode (no prepared statements, "
    "timeouts set per transaction); `?pgbouncer=true` on the URL does the same",
)

PGBOUNCER_URL_PARAM = "pgbouncer"
# Execution option marking an engine that goes through PgBouncer's transaction mode: the outbox relay
# cannot LISTEN through it (events/doorbell.py).
PGBOUNCER_OPTION = "crm_pgbouncer"


def timeouts() -> dict[str, int]:
    """The session settings to apply, by PostgreSQL parameter name, in milliseconds."""
    return {
        "statement_timeout": STATEMENT_TIMEOUT_MS.get(),
        "lock_timeout": LOCK_TIMEOUT_MS.get(),
        "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_TIMEOUT_MS.get(),
    }


def behind_pgbouncer(url: str) -> tuple[str, bool]:
    """(URL without our `pgbouncer` parameter, whether PgBouncer's transaction mode is in the way)."""
    parsed = make_url(url)
    flag = parsed.query.get(PGBOUNCER_URL_PARAM)
    if flag is None:
        return url, PGBOUNCER.get()
    value = flag if isinstance(flag, str) else flag[-1]
    stripped = parsed.difference_update_query([PGBOUNCER_URL_PARAM])
    return stripped.render_as_string(hide_password=False), config.as_bool(value)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url, pgbouncer = behind_pgbouncer(url)
    settings = {name: value for name, value in timeouts().items() if value > 0}
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    if pgbouncer:
        connect_args["prepare_threshold"] = None
    elif settings:
        connect_args["options"] = " ".join(f"-c {name}={value}" for name, value in settings.items())
    if pgbouncer:
        kwargs["execution_options"] = {**kwargs.get("execution_options", {}), PGBOUNCER_OPTION: True}
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=POOL_SIZE.get(),
        max_overflow=MAX_OVERFLOW.get(),
        connect_args=connect_args,
        **kwargs,
    )
    if pgbouncer and settings:
        event.listen(engine, "begin", _per_transaction(settings))
    return engine


def _per_transaction(settings: dict[str, int]) -> Any:
    statement = "SELECT " + ", ".join(
        f"set_config('{name}', '{value}', true)" for name, value in settings.items()
    )

    def apply(conn: Connection) -> None:
        conn.exec_driver_sql(statement)

    return apply


def lift_timeouts(connection: Connection) -> None:
    """Switch the timeouts off for the rest of `connection`'s current transaction: for work that may
    rightly take long or wait, like migrations and the advisory lock that serialises them."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL statement_timeout = 0"))
        connection.execute(text("SET LOCAL lock_timeout = 0"))
