"""Checkpoints of SQLite's write-ahead log, taken off the writers' path.

In WAL mode a commit appends the pages it changed to `<file>-wal`; a checkpoint copies them back into
the database file and syncs it. SQLite's default is that whichever commit finds the log over 1,000
pages runs that checkpoint itself, before it returns: it copies the whole log and waits for two
`fdatasync`s, while holding the writer's turn (sqlite_turns) that every other writer queues for. An
import chunk writes thousands of pages (each new contact lands at random places of some twenty
indexes), so nearly every chunk's commit paid for one: 4.3 s of the 10k-row import's commits were 1.0
s without them (bench/profile_import.py), and an API create that happened to be the one over the line
waited the same.

So connections made by `crm_platform.db.make_engine` never checkpoint on commit
(`PRAGMA wal_autocheckpoint=0`), and one thread per process does it for every file the process opened:
it looks at the size of each file's log a few times a second and, past CHECKPOINT_BYTES, runs a PASSIVE
checkpoint on a connection of its own. PASSIVE copies what no reader still needs without waiting for
anyone and without taking the write lock, so writers go on appending meanwhile; once a checkpoint has
copied everything, the next writer starts the log from its beginning again, so it does not grow without
bound. SQLite itself still checkpoints when a file's last connection closes.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import urllib.parse
import weakref
from typing import Any

log = logging.getLogger(__name__)

# SQLite's own default threshold (1,000 pages of 4 KiB).
CHECKPOINT_BYTES = 4 * 1024 * 1024
LOOK_EVERY_SECONDS = 0.1
REWRITTEN_LOG_SECONDS = 1.0


class _WatchedFile:
    """One file's log as last seen, and what the engines using it are (the file is let go when they are
    all gone)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.engines: weakref.WeakSet[Any] = weakref.WeakSet()
        self.seen: tuple[int, int] = (0, 0)  # the log's (size, mtime) after the last checkpoint
        self.checkpointed_at = 0.0
        self.behind = 0  # frames the last checkpoint could not copy (a reader or writer still used them)

    def due(self, now: float) -> bool:
        """The log is over CHECKPOINT_BYTES and was written since the last checkpoint: grown, or (a
        log once large keeps its size, and is written again from its start after a checkpoint) changed
        and the last checkpoint a while ago."""
        try:
            stat = os.stat(self.path + "-wal")
        except FileNotFoundError:
            return False
        size, mtime = stat.st_size, stat.st_mtime_ns
        if size <= CHECKPOINT_BYTES or ((size, mtime) == self.seen and not self.behind):
            return False
        return size > self.seen[0] or now - self.checkpointed_at >= REWRITTEN_LOG_SECONDS

    def checkpoint(self, now: float) -> None:
        # The log as it is before the checkpoint: a commit that lands while it runs changes the log
        # after, so the next look finds it written and checkpoints again. (Looked at after, such a commit
        # passed for checkpointed and its pages stayed in the log until the next write.)
        stat = os.stat(self.path + "-wal")
        # mode=rw: a file removed meanwhile is not created again, empty.
        uri = f"file:{urllib.parse.quote(self.path)}?mode=rw"
        connection = sqlite3.connect(uri, uri=True, timeout=0.1, isolation_level=None)
        try:
            _busy, logged, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            connection.close()
        self.seen, self.checkpointed_at = (stat.st_size, stat.st_mtime_ns), now
        self.behind = max(0, logged - copied)


class _Checkpointer:
    """This process's checkpointing thread and the files it looks after."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.files: dict[str, _WatchedFile] = {}
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="sqlite-checkpoints", daemon=True)
        self.thread.start()

    def watch(self, path: str, engine: Any) -> None:
        with self.lock:
            self.files.setdefault(path, _WatchedFile(path)).engines.add(engine)

    def _run(self) -> None:
        pause = threading.Event()
        while True:
            pause.wait(LOOK_EVERY_SECONDS)
            with self.lock:
                for path in [path for path, file in self.files.items() if not file.engines]:
                    del self.files[path]
                files = list(self.files.values())
            now = time.monotonic()
            for file in files:
                try:
                    if file.due(now):
                        file.checkpoint(now)
                except Exception:  # a file removed under us, a disk error: the next look tries again
                    log.debug("checkpoint of %s failed", file.path, exc_info=True)


_checkpointer: _Checkpointer | None = None
_started = threading.Lock()


def watch(path: str, engine: Any) -> None:
    """Checkpoint `path`'s log in the background for as long as `engine` lives (started once per
    process, again after a fork: a thread does not survive one)."""
    global _checkpointer
    with _started:
        if _checkpointer is None or _checkpointer.pid != os.getpid():
            _checkpointer = _Checkpointer()
        _checkpointer.watch(path, engine)
