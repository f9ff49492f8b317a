"""SQLite transaction modes: writers queue for the write lock up front, readers never take it."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from crm_platform.db import make_engine, make_session_factory, reading, transaction


def test_reader_is_not_blocked_by_an_open_writer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'modes.db'}")
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
    writer_holds_lock, reader_done = threading.Event(), threading.Event()

    def writer() -> None:
        with transaction(sessions) as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
            writer_holds_lock.set()
            reader_done.wait(5)

    thread = threading.Thread(target=writer)
    thread.start()
    assert writer_holds_lock.wait(5)
    with reading(sessions) as session:
        # Sees the committed row only, and returns while the writer still holds the write lock.
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 1
    reader_done.set()
    thread.join()
    with reading(sessions) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 2
    engine.dispose()


def test_writes_in_a_transaction_are_rolled_back_on_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rollback.db'}")
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    try:
        with transaction(sessions) as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with reading(sessions) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0
    engine.dispose()
