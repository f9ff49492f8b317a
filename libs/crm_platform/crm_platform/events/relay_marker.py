"""Marks confirmed outbox rows published, from a thread of its own, so the relay never waits for it.

The relay hands over the ids the broker confirmed and goes straight back to fetching and sending; the
marker writes them in one UPDATE per drain (a commit, an fsync on PostgreSQL, the write lock on SQLite)
and then reports them done, which is when the relay stops excluding them from its due-row query.
Until then a confirmed row is still pending in the database and so, by the ordering rule of
`relay_store`, still holds back the next event of its aggregate: order is kept without a second
in-flight row per aggregate.

A database error leaves the ids queued and is retried after a pause; the rows stay pending and excluded,
so they are neither lost nor sent again by this relay. If the process dies first, the next lease holder
publishes them again (at least once; consumers dedupe).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, Table
from sqlalchemy.exc import SQLAlchemyError

from crm_platform.events.relay_store import mark_published

log = logging.getLogger(__name__)

_RETRY_DELAY = 1.0
_STOP = object()


class PublishedMarker:
    def __init__(self, engine: Engine, outbox: Table, on_marked: Callable[[list[str]], None]) -> None:
        self._engine = engine
        self._outbox = outbox
        self._on_marked = on_marked
        self._queue: queue.SimpleQueue[list[str] | object] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-marker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Mark what is queued (while the database answers), then end the thread."""
        self._stopping.set()
        self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, ids: list[str]) -> None:
        if ids:
            self._queue.put(ids)

    def _run(self) -> None:
        pending: list[str] = []
        stop = False
        while True:
            if not pending:
                item = self._queue.get()
                stop = stop or item is _STOP
                if isinstance(item, list):
                    pending.extend(item)
            stop = self._drain(pending) or stop
            if pending:
                try:
                    mark_published(self._engine, self._outbox, pending, datetime.now(UTC))
                except SQLAlchemyError as exc:
                    if stop:
                        log.warning("outbox marker stopping with %d rows unmarked: %s", len(pending), exc)
                        return
                    log.warning("outbox marker cannot mark %d rows yet: %s", len(pending), exc)
                    self._stopping.wait(_RETRY_DELAY)
                    continue
                done, pending = pending, []
                self._on_marked(done)
            if stop:
                return

    def _drain(self, into: list[str]) -> bool:
        """Move everything queued into `into`; whether a stop request was among it."""
        stop = False
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return stop
            if item is _STOP:
                stop = True
            elif isinstance(item, list):
                into.extend(item)
