"""The import worker: claims a job with a lease, then applies its rows in chunks, each chunk one
transaction that also records the rows' errors and the new position, so a worker that dies loses at most
an uncommitted chunk and whoever takes the job over (after the lease runs out) resumes right after the
last committed one: each row is applied exactly once.

Rows go through the service's own write paths for the job's resource (rows.py, with the resource's
Adapter: contacts or companies): its Create and Update (the domain's rules, uniqueness per book, scope and
rights, history, the outbox event), run inside the chunk's transaction. A dry run does the same work and
rolls the chunk's rows back, keeping only the errors and counts. While a chunk is written, the next one
is cleaned in another process (preparing.py).
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from itertools import islice
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from contacts.imports import store
from contacts.imports.files import UnreadableFile, read_rows
from contacts.imports.overlap import OVERLAP, Overlapped
from contacts.imports.preparing import Preparer
from contacts.imports.resources import adapter_of
from contacts.imports.rows import Rows
from crm_platform import config
from crm_platform.access import CallerContext
from crm_platform.access.context import acting_as
from crm_platform.db import is_sqlite, transaction
from crm_platform.events import event_headers, ordering
from crm_platform.service import Runtime

log = logging.getLogger(__name__)

LEASE_SECONDS = config.Setting(
    "CRM_IMPORT_LEASE_SECONDS",
    config.positive_int,
    default="30",
    help="an import worker that has not committed a chunk for this long loses its job to another worker",
)
CHUNK_ROWS = config.Setting(
    "CRM_IMPORT_CHUNK_ROWS", config.positive_int, default="500", help="rows an import commits at a time"
)
SQLITE_CHUNK_SECONDS = config.Setting(
    "CRM_IMPORT_SQLITE_CHUNK_SECONDS",
    config.positive_seconds,
    default="0.5",
    help="on SQLite, about how long one import chunk may hold the database's writer turn: fewer rows a "
    "chunk (down to 50) when chunks take longer, so API writes never wait long behind an import",
)
# Fewest rows a chunk is cut to on SQLite: below that, each chunk's own statements and commit dominate.
MIN_SQLITE_CHUNK_ROWS = 50
# The page cache of the SQLite connection a chunk writes through: 64 MiB (SQLite's default is 2 MB).
WIDE_PAGE_CACHE = "PRAGMA cache_size = -65536"
POLL_SECONDS = 0.5
PAUSE_BETWEEN_CHUNKS_SECONDS = 0.01
# Headers of the events an import records: subscribers (notifications' welcome) can tell them apart.
ORIGIN_HEADER, NOTIFY_HEADER, JOB_HEADER = "ce-crmorigin", "ce-crmnotify", "ce-crmimportjob"


def _skip(rows: Iterator[tuple[int, list[str]]], count: int) -> None:
    for _ in islice(rows, count):
        pass


@contextmanager
def heap_frozen() -> Iterator[None]:
    """The process's objects of now (modules, descriptors, SQLAlchemy's caches: most of the heap) left
    out of garbage collections until the block ends. A job's chunks make many objects that live until
    the chunk is written, which triggers full collections; each walked the whole heap, about a sixth of
    the CPU of a new row. Collected first, so no garbage is held while frozen."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _widen_page_cache(session: Session) -> None:
    """A chunk inserts a row into each of a contact's ~20 indexes and ~30 search rows, at random places
    of those B-trees: with SQLite's 2 MB page cache most of them are read again from the OS on every
    chunk, a cost that grows with the database (executemany of search terms 4.6 -> 12 us a row from 5k
    to 25k contacts; 3.1 -> 5.8 with 128 MB). The connection keeps the wider cache in the pool."""
    session.connection().exec_driver_sql(WIDE_PAGE_CACHE)


def next_chunk_rows(rows: int, took: float, target: float, most: int) -> int:
    """The rows of the next chunk on SQLite, from how long the last one (`rows`) held the writer turn:
    scaled toward `target` seconds, at most halved or doubled at a time (one slow chunk, a moment of
    load, does not swing it), between MIN_SQLITE_CHUNK_ROWS (or `most`, when fewer) and `most`."""
    factor = min(2.0, max(0.5, target / took)) if took > 0 else 2.0
    return max(min(MIN_SQLITE_CHUNK_ROWS, most), min(most, round(rows * factor)))


def run_job(
    runtime: Runtime,
    job: Any,
    owner: str,
    lease: timedelta,
    stopping: threading.Event,
    chunk_rows: int,
) -> None:
    """Apply the job's rows from its committed position to the end (or until stopped, cancelled or
    taken over)."""
    try:
        header, rows = read_rows(job.content, job.format)
        _skip(rows, job.rows_done)
    except UnreadableFile as error:
        with transaction(runtime.sessions) as session:
            store.fail(session, job.id, owner, str(error))
        return
    caller = CallerContext.from_claims(job.caller)
    adapter = adapter_of(job.resource)
    applier = Rows(adapter(caller), header, dict(job.mapping))
    headers = {ORIGIN_HEADER: "import", NOTIFY_HEADER: "true" if job.notify else "false", JOB_HEADER: job.id}
    sqlite = is_sqlite(runtime.engine)
    if not sqlite and not job.dry_run and OVERLAP.get():
        second = Rows(adapter(caller), header, dict(job.mapping))
        overlapped = Overlapped(runtime, job, owner, lease, caller, headers, (applier, second))
        try:
            overlapped.run(rows, job.rows_done, chunk_rows, stopping)
        except store.LostJob:
            _log_lost(job.id)
        return
    # Chunk n+1 is cleaned in another process while chunk n is written (preparing.py).
    preparer = Preparer(job.resource) if adapter.prepares else None
    position = job.rows_done
    # On SQLite a chunk is one write transaction, and every other writer (an API create, the consumer,
    # the relay marking events) waits for it: under load a chunk of 500 rows took over 2 s and creates
    # made meanwhile missed the gateway's deadline. So there a chunk's rows follow how long chunks take.
    # PostgreSQL locks rows, not the database: its chunks stay whole. Measured on a quiet machine
    # (bench_concurrent_writes.py, one client creating during a 10k import): whole chunks, creates
    # p50 665 ms and the import 16.1 s; 0.5 s, p50 66 ms and 16.8 s; 0.25 s, p50 240 ms and 25 s.
    target = SQLITE_CHUNK_SECONDS.get()
    rows_now = chunk_rows
    log.info(
        "import %s: starting at row %d of %d", job.id, position, job.rows_total, extra={"job_id": job.id}
    )
    asked = rows_now
    chunk_rows_list = list(islice(rows, asked))
    prepared = preparer.submit(applier.parsed(chunk_rows_list)) if preparer else dict
    preparing = preparer is not None
    while True:
        finished = len(chunk_rows_list) < asked
        # The next chunk is read and handed for cleaning before this one is written, so its size
        # follows the chunks written until now: on SQLite it adapts a chunk later.
        next_asked = rows_now
        next_rows = [] if finished else list(islice(rows, next_asked))
        prepared_next = preparer.submit(applier.parsed(next_rows)) if preparing and next_rows else dict
        # Waited for before the transaction: on SQLite it holds the writer turn.
        ready = prepared()
        began = time.monotonic()
        try:
            with acting_as(caller), event_headers(headers), transaction(runtime.sessions) as session:
                if sqlite:
                    _widen_page_cache(session)
                if job.dry_run:
                    everything = session.begin_nested()
                    chunk = applier.apply(session, chunk_rows_list, True, ready)
                    everything.rollback()
                    ordering.forget_marks(session, 0)
                else:
                    chunk = applier.apply(session, chunk_rows_list, False, ready)
                store.add_errors(session, job.id, chunk.errors)
                position += len(chunk_rows_list)
                if not store.advance(session, job.id, owner, lease, position, chunk.counts, finished):
                    raise store.LostJob(job.id)
            # Committed: this worker's consumer takes the chunk's marked events for duplicates at once.
            ordering.remember_committed(session)
        except store.LostJob:
            _log_lost(job.id)
            return
        if finished:
            log.info("import %s: done", job.id, extra={"job_id": job.id})
            return
        if sqlite:
            rows_now = next_chunk_rows(len(chunk_rows_list), time.monotonic() - began, target, chunk_rows)
        # Only new rows use what was prepared: a file of updates (imported again) stops handing its
        # chunks over, and one that creates again takes it up again.
        preparing = preparer is not None and chunk.counts["created"] * 4 >= len(chunk_rows_list)
        chunk_rows_list, asked, prepared = next_rows, next_asked, prepared_next
        if stopping.is_set():
            return  # the lease runs out and a worker resumes after the last chunk
        # A breath between chunks: on SQLite a writer waiting for the lock (an API call, a cancel) gets
        # it here instead of queueing behind every chunk of the import. PostgreSQL locks rows, not the
        # database, so nobody waits there for the import to pause.
        if sqlite:
            stopping.wait(PAUSE_BETWEEN_CHUNKS_SECONDS)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_imports(runtime: Runtime, stopping: threading.Event) -> None:
    """The worker's import loop: claim, run, repeat, until `stopping` is set."""
    owner = worker_id()
    lease = timedelta(seconds=LEASE_SECONDS.get())
    chunk_rows = CHUNK_ROWS.get()
    Preparer.start()
    try:
        _claim_and_run(runtime, stopping, owner, lease, chunk_rows)
    finally:
        Preparer.stop()


def _claim_and_run(
    runtime: Runtime, stopping: threading.Event, owner: str, lease: timedelta, chunk_rows: int
) -> None:
    while not stopping.is_set():
        try:
            with transaction(runtime.sessions) as session:
                job = store.claim(session, owner, lease)
            if job is None:
                stopping.wait(POLL_SECONDS)
                continue
            try:
                with heap_frozen():
                    run_job(runtime, job, owner, lease, stopping, chunk_rows)
            except (OperationalError, InterfaceError):
                raise  # the database is away: the job is taken up again once its lease runs out
            except Exception as error:
                # A bug, not an outage: running the job again would fail again (and hold the queue), so
                # it fails, its committed chunks staying, with the reason for the operator.
                log.exception("import %s failed", job.id, extra={"job_id": job.id})
                with transaction(runtime.sessions) as session:
                    store.fail(
                        session, job.id, owner, f"internal error ({type(error).__name__}); see the log"
                    )
        except Exception:
            log.exception("import worker: trying again shortly")
            stopping.wait(POLL_SECONDS * 4)


def _log_lost(job_id: str) -> None:
    log.info("import %s: cancelled or taken over; stopping", job_id, extra={"job_id": job_id})
