"""On PostgreSQL, an import applies its next chunk while the current one is still being written, and
commits them in the file's order.

There a chunk's time is about half the worker's Python and half PostgreSQL's own work (a new contact's
twenty indexes, its search terms), each waiting for the other: bench_import.py measured the worker's CPU
at 4.1 s and PostgreSQL's at 3.5 s in a 7.8 s import of 10k new contacts, on two cores. Two chunks in
flight, each in a transaction of its own on a thread of its own, let one chunk's Python run while the
server works on the other's rows (the driver lets go of the interpreter lock while it waits). Measured
(bench/RESULTS.md, 2026-11-27): +10% where PostgreSQL has a core of its own, as on its own machine; no
gain on the 2-core machine where it shares the cores with the worker, whose Python is then the bound.

What the one-at-a-time loop (runner.py) promises still holds:
- Chunks commit in the file's order. A chunk records its position only after the chunk before it has
  committed, and only if the committed position is where it starts (store.advance's `rows_before`): what
  is committed is always a prefix of the file, and a worker that dies loses only uncommitted chunks,
  which whoever takes the job over applies again. Each row is applied once.
- A row sees every row above it. A chunk that shares a key with the chunk in flight (an email, an
  external id, the digits of a phone, in any column mapped to such a field) starts once that one has
  committed, so a file that names a record twice updates what its earlier row created.
- A chunk whose earlier one failed is rolled back, and the failure is the job's as before (cancelled or
  taken over: stop; the database away: the job is taken up again once its lease runs out).
- The typo keys of a chunk's new words (search/index.py) are written once the chunk before it has
  committed: new words are shared by chunks far more often than keys, and written at once the earlier
  chunk would wait for the later one on them.
- Should the chunk before wait on this one's locks (a key the check above does not see), this one stops
  waiting after EARLIER_CHUNK_WAIT_SECONDS or when PostgreSQL reports the deadlock, rolls back (which
  frees the other) and is applied again once the other has committed.

Dry runs and SQLite go one chunk at a time (runner.py): SQLite has a single writer, and a dry run's rows
must see rows above them that were never committed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from typing import Any

from sqlalchemy.exc import OperationalError

from contacts.imports import store
from contacts.imports.rows import Rows
from contacts.store import search_index
from crm_platform import config
from crm_platform.access import CallerContext
from crm_platform.access.context import acting_as
from crm_platform.db import transaction
from crm_platform.events import event_headers, ordering
from crm_platform.service import Runtime

OVERLAP = config.Setting(
    "CRM_IMPORT_OVERLAP",
    config.as_bool,
    default="true",
    help="on PostgreSQL, apply an import's next chunk while the current one is being written (chunks "
    "still commit in the file's order); false: one chunk at a time",
)
# How long a chunk waits for the one before it to commit before suspecting it holds a lock that one
# waits for, and stepping back. A chunk of 500 rows takes well under a second on a quiet machine.
EARLIER_CHUNK_WAIT_SECONDS = 5.0
# PostgreSQL's answers to two transactions waiting for each other: deadlock detected, lock not available.
_LOCK_CONFLICTS = frozenset({"40P01", "55P03"})


class _SteppedBack(Exception):
    """The chunk rolled back to let the one before it go on; it is applied again after that one."""


class _EarlierFailed(Exception):
    """The chunk before this one did not commit: this one is rolled back, that one's failure told."""


@dataclass(eq=False)
class Flight:
    """A chunk on its way: where it starts, its rows, the keys they name, the chunk before it."""

    start: int
    rows: list[tuple[int, list[str]]]
    keys: frozenset[str]
    finished: bool  # the file's last chunk
    applier: Rows
    before: Flight | None
    settled: threading.Event = field(default_factory=threading.Event)
    committed: bool = False
    future: Future[bool] | None = None

    def settle(self, committed: bool) -> None:
        self.committed = committed
        self.settled.set()


def conflict_keys(applier: Rows, rows: list[tuple[int, list[str]]]) -> frozenset[str]:
    """What the rows could match or clash with a record by: their key fields (email, external id,
    domain) as the adapter normalises them, and the last digits of any phone. More than the database's
    unique indexes see, never less: a false match only costs the overlap."""
    adapter = applier.adapter
    found: set[str] = set()
    for _number, values in applier.parsed(rows):
        for name, value in values.items():
            if name in adapter.normalisers:
                found.add(f"{name}:{adapter.normalisers[name](value)}")
            elif "phone" in name:
                digits = "".join(ch for ch in value if ch.isdigit())
                found.add(f"phone:{digits[-8:]}")
            elif "email" in name:
                found.add(f"email:{value.strip().lower()}")
    return frozenset(found)


class Overlapped:
    """One job's chunks from `position` on, two in flight at a time."""

    def __init__(
        self,
        runtime: Runtime,
        job: Any,
        owner: str,
        lease: timedelta,
        caller: CallerContext,
        headers: dict[str, str],
        appliers: tuple[Rows, Rows],
    ) -> None:
        self.runtime, self.job, self.owner, self.lease = runtime, job, owner, lease
        self.caller, self.headers, self.appliers = caller, headers, appliers

    def run(
        self,
        rows: Iterator[tuple[int, list[str]]],
        position: int,
        chunk_rows: int,
        stopping: threading.Event,
    ) -> None:
        """Apply the rows; raises what the one-at-a-time loop would (store.LostJob, a database error)."""
        with ThreadPoolExecutor(2, thread_name_prefix="import-chunk") as pool:
            earlier: Flight | None = None
            turn = 0
            while True:
                chunk = list(islice(rows, chunk_rows))
                finished = len(chunk) < chunk_rows
                applier = self.appliers[turn % 2]  # the other one's chunk may still be running
                keys = conflict_keys(applier, chunk)
                if earlier is not None and keys & earlier.keys:
                    self._finish(earlier)  # a row of this chunk must see that chunk's rows
                    earlier = None
                flight = Flight(position, chunk, keys, finished, applier, earlier)
                flight.future = pool.submit(self._apply, flight)
                if earlier is not None:
                    self._finish(earlier)
                position, turn, earlier = position + len(chunk), turn + 1, flight
                if finished or stopping.is_set():
                    self._finish(flight)
                    return

    def _finish(self, flight: Flight) -> None:
        """Wait for `flight` to be committed, applying it again when it stepped back; raises its failure."""
        assert flight.future is not None
        try:
            committed = flight.future.result()
            again = Flight(flight.start, flight.rows, flight.keys, flight.finished, flight.applier, None)
            while not committed:  # stepped back: the chunk before it is committed by now
                committed = self._apply(again)
        except BaseException:
            flight.settle(False)
            raise
        flight.settle(True)

    def _apply(self, flight: Flight) -> bool:
        """The chunk in its own transaction, committed after the chunk before it. False: it stepped back
        (rolled back, to be applied again); raises when it failed or the chunk before it did."""
        job = self.job
        try:
            with (
                acting_as(self.caller),
                event_headers(self.headers),
                transaction(self.runtime.sessions) as session,
            ):
                search_index.defer_typo_keys(session)
                chunk = flight.applier.apply(session, flight.rows, False)
                store.add_errors(session, job.id, chunk.errors)
                before = flight.before
                if before is not None:
                    if not before.settled.wait(EARLIER_CHUNK_WAIT_SECONDS):
                        raise _SteppedBack
                    if not before.committed:
                        raise _EarlierFailed
                # Words are the one thing chunks share that no key check sees: written now, the earlier
                # chunk has committed its own, so neither waits for the other.
                search_index.write_deferred_typo_keys(session)
                end = flight.start + len(flight.rows)
                moved = store.advance(
                    session, job.id, self.owner, self.lease, end, chunk.counts, flight.finished, flight.start
                )
                if not moved:
                    raise store.LostJob(job.id)
            ordering.remember_committed(session)
        except _SteppedBack:
            return False
        except OperationalError as error:
            if getattr(error.orig, "sqlstate", None) in _LOCK_CONFLICTS:
                return False
            raise
        return True
