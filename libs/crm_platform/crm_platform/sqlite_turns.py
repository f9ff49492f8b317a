"""Turns at writing for the processes and threads that share one SQLite file.

SQLite lets one transaction write at a time. A writer that finds the lock taken is left to the busy
handler, which sleeps and tries again, sleeping longer each time (up to 100 ms between tries): it
cannot know when the lock is let go, so a writer already waiting keeps losing to writers that arrive
while it sleeps. Under several concurrent writers (a service's request threads, its worker's consumer
and relay in another process) some creates waited seconds and missed the gateway's deadline: with 4
clients creating contacts at once, p99 was 15x one client's and a few answers were 504
(bench/bench_concurrent_writes.py).

So a write transaction first takes an exclusive `flock` on a lock file beside the database
(`<file>-writers`), then BEGIN IMMEDIATE, and gives it back when the transaction ends (commit, rollback
or the connection closing). Waiting for a `flock` is the kernel's: the next writer is woken the moment
the turn is given back, without sleeping on a guess, and the lock goes with the process should it die.
Readers take no turn (WAL: they never wait for writers).

A thread that already holds a turn on another connection of the file takes none for the second: it
would wait for itself. Its BEGIN IMMEDIATE then meets SQLite's lock as before (busy timeout).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from typing import Any

# Turns held by the current thread, by lock file: a second connection of the same thread and file
# takes none (see the module's docstring).
_held = threading.local()


def lock_path_of(database: str) -> str | None:
    """The turn lock file of a SQLite database file; None for an in-memory database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database) + "-writers"


class TurnTakingConnection(sqlite3.Connection):
    """A sqlite3 connection that can take a writer's turn, and gives it back when its transaction ends."""

    _turn_path: str | None = None
    _turn_fd: int | None = None
    _held_by: set[str] | None = None  # the turns of the thread that took this one, while it holds it

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._turn_path = lock_path_of(os.fsdecode(database)) if isinstance(database, str | bytes) else None

    def take_turn(self) -> None:
        """Wait for this file's writer turn (before BEGIN IMMEDIATE)."""
        if self._turn_path is None or self._held_by is not None:
            return
        held: set[str] = _held.__dict__.setdefault("paths", set())
        if self._turn_path in held:
            return
        if self._turn_fd is None:
            self._turn_fd = os.open(self._turn_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._turn_fd, fcntl.LOCK_EX)  # releases the GIL while it waits
        self._held_by = held
        held.add(self._turn_path)

    def give_turn_back(self) -> None:
        held, self._held_by = self._held_by, None
        if held is None or self._turn_fd is None:
            return
        held.discard(self._turn_path)  # type: ignore[arg-type]
        fcntl.flock(self._turn_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give_turn_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_turn_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.give_turn_back()
            if self._turn_fd is not None:
                os.close(self._turn_fd)
                self._turn_fd = None
