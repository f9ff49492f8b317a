"""Writers of a SQLite file take turns through a `flock` on `<file>-writers` (crm_platform.sqlite_turns):
held from BEGIN IMMEDIATE to the end of the transaction, whichever way it ends; readers take none."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from crm_platform.db import READ_ONLY, make_engine, make_session_factory, transaction
from crm_platform.sqlite_turns import TurnTakingConnection


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    yield engine
    engine.dispose()


def turn_is_taken(database: Path) -> bool:
    """Whether some writer holds the file's turn (tried from a descriptor of our own, without waiting)."""
    fd = os.open(f"{database}-writers", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def test_a_write_transaction_holds_the_turn_until_it_commits(engine: Engine, tmp_path: Path) -> None:
    database = tmp_path / "turns.db"
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        assert turn_is_taken(database)
    assert not turn_is_taken(database)


def test_the_turn_is_given_back_on_rollback_and_on_close(engine: Engine, tmp_path: Path) -> None:
    database = tmp_path / "turns.db"
    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("the block fails: rolled back")
    assert not turn_is_taken(database)

    connection = engine.connect()
    connection.begin()
    connection.execute(text("INSERT INTO t VALUES (2)"))
    assert turn_is_taken(database)
    connection.invalidate()  # the DBAPI connection closed with its transaction open
    assert not turn_is_taken(database)
    with engine.connect() as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 0


def test_readers_take_no_turn(engine: Engine, tmp_path: Path) -> None:
    with engine.connect().execution_options(**{READ_ONLY: True}) as reader:
        reader.execute(text("SELECT count(*) FROM t")).scalar_one()
        assert not turn_is_taken(tmp_path / "turns.db")


def test_a_waiting_writer_goes_the_moment_the_turn_is_given_back(engine: Engine) -> None:
    """The second writer waits in the kernel, not in SQLite's busy handler (which by then sleeps 100 ms
    between tries, so it would start 0-100 ms late): it starts right after the first commits. The
    median of several tries, so one slow wake-up on a loaded machine does not decide."""
    delays = sorted(one_writer_after_another(engine) for _ in range(9))
    assert delays[4] < 0.025, delays
    with engine.connect() as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 18


def one_writer_after_another(engine: Engine) -> float:
    """Seconds between the first writer's commit and the second's first write, which waited for it."""
    sessions = make_session_factory(engine)
    wrote_at: list[float] = []

    def second_writer() -> None:
        with transaction(sessions) as session:
            session.execute(text("INSERT INTO t VALUES (2)"))  # begins: waits for the turn
            wrote_at.append(time.perf_counter())

    with transaction(sessions) as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        waiter = threading.Thread(target=second_writer)
        waiter.start()
        time.sleep(0.35)  # SQLite's busy handler would sleep from 328 to 428 ms here
        assert not wrote_at  # still waiting for its turn
        released = time.perf_counter()
    waiter.join(timeout=10)
    assert wrote_at and wrote_at[0] >= released
    return wrote_at[0] - released


def test_a_thread_holding_the_turn_does_not_wait_for_itself(engine: Engine, tmp_path: Path) -> None:
    """A second connection of the same thread takes no turn (it would wait for ever): it meets
    SQLite's own lock instead, as it always did."""
    second = TurnTakingConnection(str(tmp_path / "turns.db"), timeout=0.1, isolation_level=None)
    try:
        with engine.begin() as outer:
            outer.execute(text("INSERT INTO t VALUES (1)"))
            started = time.perf_counter()
            second.take_turn()  # returns at once: this thread holds the turn
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                second.execute("BEGIN IMMEDIATE")
            assert time.perf_counter() - started < 5
        assert not turn_is_taken(tmp_path / "turns.db")
    finally:
        second.close()
