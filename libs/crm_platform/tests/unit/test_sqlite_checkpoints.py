"""Commits on engines from `make_engine` never checkpoint SQLite's log themselves; a thread of the process
does, once the log is past CHECKPOINT_BYTES (crm_platform.sqlite_checkpoints)."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from crm_platform import sqlite_checkpoints
from crm_platform.db import make_engine

ROW = "x" * 3000  # about a page a row


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'log.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER, body TEXT)")
    yield engine
    engine.dispose()


def write_pages(engine: Engine, pages: int) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO t (n, body) VALUES (?, ?)", [(n, ROW) for n in range(pages)])


def test_commits_leave_the_log_to_the_checkpointer(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        assert connection.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY


def watched(database: Path) -> sqlite_checkpoints._WatchedFile:
    checkpointer = sqlite_checkpoints._checkpointer
    assert checkpointer is not None
    return checkpointer.files[str(database.resolve())]


def wait_for_checkpoint(file: sqlite_checkpoints._WatchedFile, database: Path, rows: int) -> None:
    """Until a checkpoint that ended after the last write (it saw the log as it is now) copied the whole
    log, and with it all `rows` into the database file. Judged by that state, not by when a checkpoint
    began: one may begin a moment before the test reads the clock after a commit (seen in a CI run), or
    during a transaction, copying only what was committed."""
    wal = Path(f"{database}-wal")
    deadline = time.monotonic() + 10

    def done() -> bool:
        stat = wal.stat()
        return (
            file.seen == (stat.st_size, stat.st_mtime_ns)
            and not file.behind
            and database.stat().st_size > rows * 4096  # a row fills a page of its own
        )

    while not done():
        assert time.monotonic() < deadline, (
            f"the log was not checkpointed: {vars(file)}, database {database.stat().st_size} bytes"
        )
        time.sleep(0.02)


def test_a_log_past_the_threshold_is_checkpointed_in_the_background(engine: Engine, tmp_path: Path) -> None:
    database = tmp_path / "log.db"
    pages = 2 * sqlite_checkpoints.CHECKPOINT_BYTES // 4096
    write_pages(engine, pages)
    wal = Path(f"{database}-wal")
    assert wal.stat().st_size > sqlite_checkpoints.CHECKPOINT_BYTES  # the commit did not checkpoint
    file = watched(database)
    wait_for_checkpoint(file, database, pages)  # the rows were copied into the database
    # Each writer after a whole checkpoint starts the log from its beginning: it does not grow
    # without bound.
    for round_ in range(2, 6):
        write_pages(engine, pages)
        wait_for_checkpoint(file, database, round_ * pages)
    assert wal.stat().st_size < 2 * pages * 4096


def test_a_small_log_is_left_alone(engine: Engine, tmp_path: Path) -> None:
    database = tmp_path / "log.db"
    write_pages(engine, 10)
    assert not sqlite_checkpoints._WatchedFile(str(database)).due(time.monotonic())


def test_a_file_is_let_go_with_its_engines(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gone.db'}")
    path = str((tmp_path / "gone.db").resolve())
    checkpointer = sqlite_checkpoints._checkpointer
    assert checkpointer is not None and path in checkpointer.files
    engine.dispose()
    del engine
    gc.collect()
    deadline = time.monotonic() + 5
    while path in checkpointer.files:
        assert time.monotonic() < deadline, "the file is still watched"
        time.sleep(0.05)


def test_a_commit_landing_during_a_checkpoint_is_checkpointed_at_the_next_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "late.db"
    late = make_engine(f"sqlite:///{database}")
    with late.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER, body TEXT)")
    write_pages(late, 2 * sqlite_checkpoints.CHECKPOINT_BYTES // 4096)
    connect = sqlite_checkpoints.sqlite3.connect

    class CommitAfterTheCheckpoint:
        """The background checkpoint's connection; right after its checkpoint another commit lands."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            self.connection = connect(*args, **kwargs)  # type: ignore[arg-type]

        def execute(self, statement: str) -> object:
            result = self.connection.execute(statement).fetchone()
            time.sleep(0.01)  # a new modification time for the log
            write_pages(late, 5)
            return type("Row", (), {"fetchone": lambda _self: result})()

        def close(self) -> None:
            self.connection.close()

    file = sqlite_checkpoints._WatchedFile(str(database))
    monkeypatch.setattr(sqlite_checkpoints.sqlite3, "connect", CommitAfterTheCheckpoint)
    now = time.monotonic()
    assert file.due(now)
    file.checkpoint(now)
    monkeypatch.setattr(sqlite_checkpoints.sqlite3, "connect", connect)
    # The log changed after the checkpoint began: it is due again once the rewritten-log pause is over.
    assert file.due(now + sqlite_checkpoints.REWRITTEN_LOG_SECONDS)
    late.dispose()
