"""An import's next chunk cleaned in another process while this one writes the current chunk.

Most of a new contact's cost before it is written needs no database: its cells decoded into a
CreateContactRequest (fields.py), the contract's field rules, and the domain's rules (names, emails,
phones parsed into E.164, dates: `contacts.api.clean_create_request`). They are pure functions of the
row's cells, so a second process does them for chunk n+1 while the worker writes chunk n, on the
machine's other core. What the row is then written with is what the worker would have computed itself:
the results are only looked up (rows.py), in the order CreateContact checks, and every rule that reads
the database (the caller's right to the ownership asked for, custom fields, taken emails) still runs in
the worker, in the chunk's transaction.

Anything amiss with the other process (not startable, killed, an unexpected error) costs only the
overlap: the chunk's rows are then cleaned in the worker as before.

Off by default (CRM_IMPORT_PREPARE_PROCESSES=0; 1 turns it on): on the 2-core machine we measure on it
made the worker's loop 1.2-1.3x faster alone but the import end to end no faster (the worker's relay
and consumer threads bound it), slower with no free core (the cells parsed twice, the results pickled
back), and every worker that starts it spawns a process (about a second, and its memory). Worth turning
on where a contacts worker has a core of its own to spare.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from crm_platform import config
from crm_platform.errors import InvalidArgument
from crm_platform.validation import contract_violations

log = logging.getLogger(__name__)

PREPARE_PROCESSES = config.Setting(
    "CRM_IMPORT_PREPARE_PROCESSES",
    config.non_negative_int,
    default="0",
    help="processes that clean an import's next chunk while the worker writes the current one "
    "(0, the default: the worker cleans each chunk itself)",
)


PARENT_CHECK_SECONDS = 0.5


@dataclass(frozen=True)
class PreparedRow:
    """What a row's create request is before anything reads the database, as CreateContact would find."""

    problems: dict[str, str]  # cells that do not fit their fields (the request is then not used)
    request: bytes  # the create request decoded from the cells
    violations: dict[str, str] = field(default_factory=dict)  # the contract's field rules broken
    cleaned: Any = None  # the adapter's `clean_request` of it (None: refused, or not prepared)
    refusal: tuple[str, dict[str, str]] | None = None  # the domain's InvalidArgument instead

    def cleaned_or_refusal(self) -> Any:
        """The cleaned request as the adapter takes it, or the InvalidArgument its rules answered."""
        if self.refusal is not None:
            raise InvalidArgument(*self.refusal)
        return self.cleaned


def prepare_rows(
    resource: str, region: str, rows: Sequence[tuple[int, dict[str, str]]]
) -> dict[int, PreparedRow]:
    """Each row (number, field -> cell) of `resource` prepared; a row whose preparation failed
    unexpectedly is left out (the worker then does it, and meets the failure itself)."""
    from contacts.imports import fields as fieldmap
    from contacts.imports.resources import adapter_of

    adapter = adapter_of(resource)
    prepared = {}
    for number, values in rows:
        try:
            request = adapter.create_request()
            problems = fieldmap.fill(request, values)
            if problems:
                prepared[number] = PreparedRow(problems, b"")
                continue
            data = request.SerializeToString()
            violations = contract_violations(request)
            if violations:
                prepared[number] = PreparedRow({}, data, violations)
                continue
            try:
                cleaned = adapter.clean_request(request, region)
            except InvalidArgument as error:
                prepared[number] = PreparedRow({}, data, refusal=(error.message, error.fields))
                continue
            prepared[number] = PreparedRow({}, data, cleaned=cleaned)
        except Exception:
            log.debug("import row %d not prepared", number, exc_info=True)
    return prepared


def _leave_with_the_worker(worker_pid: int) -> None:
    """In the preparing process: exit once the worker that started it is gone. A worker killed outright
    (SIGKILL, out of memory) cannot stop its pool, and the pool's queue never tells the process, which
    holds both of its ends."""

    def watch() -> None:
        while os.getppid() == worker_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="worker-watch", daemon=True).start()


class Preparer:
    """Hands chunks to the preparing process (one pool per worker process, started by the first import
    and kept), and gives back their rows prepared, or {} when that did not work out."""

    _pool: ProcessPoolExecutor | None = None
    _workers = 0  # import loops of this process using the pool (tests run several)
    _lock = threading.Lock()

    def __init__(self, resource: str) -> None:
        from contacts.api import DEFAULT_PHONE_REGION

        # Read here and passed along: the preparing process outlives any one job and its settings.
        self.resource, self.region = resource, DEFAULT_PHONE_REGION.get()
        self.processes = PREPARE_PROCESSES.get()

    @classmethod
    def start(cls) -> None:
        """An import loop begins: start the preparing process now, so no import waits for it to start
        (spawning one and importing the service's modules takes about a second)."""
        with cls._lock:
            cls._workers += 1
        processes = PREPARE_PROCESSES.get()
        if processes:
            try:
                cls._pool_of(processes).submit(prepare_rows, "contacts", "US", [])
            except Exception:
                log.warning("the preparing process could not start", exc_info=True)
                cls._discard()

    @classmethod
    def stop(cls) -> None:
        """An import loop ends; the last one stops the preparing process."""
        with cls._lock:
            cls._workers -= 1
            last = cls._workers <= 0
        if last:
            cls._discard()

    def submit(self, rows: Sequence[tuple[int, dict[str, str]]]) -> Callable[[], dict[int, PreparedRow]]:
        """Start preparing `rows`; the returned call waits for them."""
        if not self.processes or not rows:
            return dict
        try:
            future = self._pool_of(self.processes).submit(prepare_rows, self.resource, self.region, rows)
        except Exception:  # a broken or unstartable pool: this chunk is cleaned in the worker
            log.warning("import rows not handed to the preparing process", exc_info=True)
            Preparer._discard()
            return dict
        return lambda: self._result(future)

    @staticmethod
    def _result(future: Future[dict[int, PreparedRow]]) -> dict[int, PreparedRow]:
        try:
            return future.result()
        except Exception:  # the process died (killed, out of memory): this chunk is cleaned in the worker
            log.warning("the preparing process failed; cleaning the chunk here", exc_info=True)
            Preparer._discard()
            return {}

    @classmethod
    def _pool_of(cls, processes: int) -> ProcessPoolExecutor:
        with cls._lock:
            if cls._pool is None:
                # Spawned, not forked: the worker runs threads (relay, consumers) whose locks a fork
                # would copy held.
                context = multiprocessing.get_context("spawn")
                cls._pool = ProcessPoolExecutor(
                    processes,
                    mp_context=context,
                    initializer=_leave_with_the_worker,
                    initargs=(os.getpid(),),
                )
            return cls._pool

    @classmethod
    def _discard(cls) -> None:
        """Let the pool go (broken, or no longer used); the next chunk handed over starts a new one."""
        with cls._lock:
            pool, cls._pool = cls._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
