"""PostgreSQL sessions carry statement, lock and idle-in-transaction timeouts, directly and via PgBouncer."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from crm_platform import postgres
from crm_platform.db import make_engine

pytestmark = pytest.mark.postgres


@pytest.fixture(params=["direct", "pgbouncer-mode"])
def engine(request: pytest.FixtureRequest, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("CRM_DB_STATEMENT_TIMEOUT_MS", "300")
    monkeypatch.setenv("CRM_DB_LOCK_TIMEOUT_MS", "200")
    monkeypatch.setenv("CRM_DB_POOL_SIZE", "3")
    monkeypatch.setenv("CRM_DB_MAX_OVERFLOW", "1")
    # PgBouncer mode against PostgreSQL itself: the per-transaction path must hold without PgBouncer too.
    url = postgres_url + ("?pgbouncer=true" if request.param == "pgbouncer-mode" else "")
    created = make_engine(url)
    request.addfinalizer(created.dispose)
    return created


def test_settings_reach_the_session_and_the_pool(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "300ms"
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "200ms"
        assert conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar() == "30s"
    assert (engine.pool.size(), engine.pool._max_overflow) == (3, 1)  # type: ignore[attr-defined]


def test_a_statement_past_the_timeout_fails_fast(engine: Engine) -> None:
    started = time.monotonic()
    with pytest.raises(OperationalError, match="statement timeout"), engine.connect() as conn:
        conn.execute(text("SELECT pg_sleep(5)"))
    assert time.monotonic() - started < 2
    with engine.connect() as conn:  # the pool hands out a healthy connection afterwards
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_a_lock_wait_past_the_timeout_fails_fast(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id int primary key, v int)"))
        conn.execute(text("INSERT INTO t VALUES (1, 0)"))
    holding, done = threading.Event(), threading.Event()

    def hold_row() -> None:
        with engine.begin() as conn:
            conn.execute(text("UPDATE t SET v = 1 WHERE id = 1"))
            holding.set()
            done.wait(5)

    holder = threading.Thread(target=hold_row)
    holder.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="lock timeout"), engine.begin() as conn:
            conn.execute(text("UPDATE t SET v = 2 WHERE id = 1"))
        assert time.monotonic() - started < 2
    finally:
        done.set()
        holder.join()


def test_lift_timeouts_lets_long_work_run_in_its_transaction(engine: Engine) -> None:
    with engine.begin() as conn:
        postgres.lift_timeouts(conn)
        conn.execute(text("SELECT pg_sleep(0.5)"))  # longer than the 300 ms statement timeout
    with engine.connect() as conn:  # the next transaction has them again
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "300ms"


def test_pgbouncer_mode_turns_off_prepared_statements(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, flagged = postgres.behind_pgbouncer(postgres_url + "?pgbouncer=1")
    assert flagged and url == postgres_url
    assert postgres.behind_pgbouncer(postgres_url) == (postgres_url, False)
    monkeypatch.setenv("CRM_DB_PGBOUNCER", "1")
    assert postgres.behind_pgbouncer(postgres_url) == (postgres_url, True)
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.connection.driver_connection.prepare_threshold is None  # type: ignore[union-attr]
    finally:
        engine.dispose()
