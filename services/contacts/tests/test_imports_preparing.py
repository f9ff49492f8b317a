"""An import's next chunk is cleaned in another process while the worker writes the current one
(contacts.imports.preparing): the rows are written exactly as the worker would have cleaned them itself,
the worker really uses what the other process prepared, and a preparing process that dies costs only
the overlap."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from contacts.imports import api as imports_api
from contacts.imports import runner
from contacts.imports import store as imports_store
from contacts.imports.calls import Call
from contacts.imports.people import People
from contacts.imports.preparing import Preparer, prepare_rows
from contacts.imports.rows import Rows
from contacts.main import DEFINITION
from contacts.store import Contact
from crm.contacts.v1 import contacts_pb2, imports_pb2
from crm_platform.access.context import acting_as
from crm_platform.db import reading
from crm_platform.errors import InvalidArgument
from crm_platform.service import Runtime, open_runtime
from crm_platform.testing.callers import caller

from .import_workers import import_loop, worker_process

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

HEADER = "email,first_name,last_name,phone,birth_date,preferred_channel"
# Good rows, and rows each refused by another of the rules a preparing process answers.
ROWS = [
    "ann@example.com,Ann,Lee,+44 20 7946 0001,1980-02-03,email",
    "bad-email,Bob,Ray,,,",  # the contract's rules
    "cy@example.com,Cy,Ho,020 7946 0003,,",  # the domain's: a national number of the default region
    "di@example.com,Di,Fox,,,pigeon",  # a cell that fits no value of its field
    "ed@example.com,Ed,Ng,,not a date,",  # the contract's rules
    "fay@example.com,Fay,Orr,+1 415 555 2671,1991-12-31,",
]


@pytest.fixture(autouse=True)
def _preparing_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preparing process is off by default; these tests are about it (a worker started here inherits
    the setting through the environment)."""
    monkeypatch.setenv("CRM_IMPORT_PREPARE_PROCESSES", "1")


def queue(runtime: Runtime, rows: list[str]) -> str:
    content = ("\n".join([HEADER, *rows]) + "\n").encode()
    request = imports_pb2.CreateImportRequest(resource="contacts", content=content)
    with acting_as(caller("importer", "admin")):
        return imports_api.ImportsServicer(runtime).CreateImport(request, Call()).id  # type: ignore[arg-type]


@pytest.fixture
def worker(runtime: Runtime) -> Iterator[None]:
    with import_loop(runtime):
        yield


def finished(runtime: Runtime, job_id: str) -> tuple[Any, list[tuple[int, str, str]]]:
    """The ended job, and its errors."""
    deadline = time.monotonic() + 120
    while True:
        with reading(runtime.sessions) as session:
            job = imports_store.job_of(session, job_id, None)
            errors = imports_store.errors_of(session, job_id, 1000, None)
        if job.state in imports_store.FINISHED:
            return job, [(e.row, e.column, e.message) for e in errors]
        assert time.monotonic() < deadline, "the import did not end"
        time.sleep(0.05)


def run_here(runtime: Runtime, job_id: str) -> tuple[Any, list[tuple[int, str, str]]]:
    """The job claimed and run to its end by this thread, as the worker's loop runs it."""
    with runtime.sessions.begin() as session:
        job = imports_store.claim(session, "test-worker", timedelta(minutes=5))
    assert job is not None and job.id == job_id
    runner.run_job(runtime, job, "test-worker", timedelta(minutes=5), threading.Event(), 2)
    return finished(runtime, job_id)


def stored(runtime: Runtime) -> list[tuple[str, ...]]:
    with runtime.engine.connect() as connection:
        found = connection.execute(
            select(Contact.email, Contact.first_name, Contact.phone, Contact.birth_date).order_by(
                Contact.email
            )
        )
        return [tuple(map(str, row)) for row in found]


def test_prepared_rows_answer_as_the_worker_would(runtime: Runtime) -> None:
    """Each row's preparation, done in-process here, against the worker's own cleaning of it."""
    header = HEADER.split(",")
    applier = Rows(People(caller("importer", "admin")), header, {h: h for h in header})
    rows = [(number, line.split(",")) for number, line in enumerate(ROWS, start=2)]
    prepared = prepare_rows("contacts", "US", applier.parsed(rows))
    assert set(prepared) == {number for number, _cells in rows}
    ann, bad_email, national, pigeon, no_date, fay = (prepared[n] for n in range(2, 8))
    fields, profile = ann.cleaned_or_refusal()
    assert fields == ("Ann", "Lee", "ann@example.com", "+442079460001", "")
    request = contacts_pb2.CreateContactRequest.FromString(profile)
    assert (request.phone, request.birth_date) == ("+442079460001", "1980-02-03")
    assert "email" in bad_email.violations and bad_email.cleaned is None
    with pytest.raises(InvalidArgument, match="invalid contact") as refused:
        national.cleaned_or_refusal()
    assert refused.value.fields == {"phone": "is not a valid phone number"}
    assert set(pigeon.problems) == {"preferred_channel"}
    assert set(no_date.violations) == {"birth_date"}
    assert fay.cleaned_or_refusal()[0][:3] == ("Fay", "Orr", "fay@example.com")


def test_an_import_with_and_without_the_preparing_process_writes_the_same(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 2 rows, so the process prepares each next chunk while this one is written."""
    used: list[int] = []
    apply = Rows.apply

    def counting(self: Rows, session: Any, rows: Any, dry_run: bool, prepared: Any = None) -> Any:
        used.append(len(prepared or {}))
        return apply(self, session, rows, dry_run, prepared)

    monkeypatch.setattr(Rows, "apply", counting)
    job, errors = run_here(runtime, queue(runtime, ROWS))
    assert sum(used) == len(ROWS)  # every row was cleaned by the preparing process
    with_process = (job.created, job.failed, errors, stored(runtime))

    monkeypatch.setenv("CRM_IMPORT_PREPARE_PROCESSES", "0")
    used.clear()
    other = open_runtime(DEFINITION, f"sqlite:///{tmp_path / 'other.db'}")
    try:
        job, errors = run_here(other, queue(other, ROWS))
        without = (job.created, job.failed, errors, stored(other))
    finally:
        other.engine.dispose()
    assert sum(used) == 0
    assert with_process == without
    assert with_process[:2] == (2, 4)


def test_a_preparing_process_that_dies_costs_only_the_overlap(runtime: Runtime, worker: None) -> None:
    deadline = time.monotonic() + 30
    while not (Preparer._pool and Preparer._pool._processes):  # started by the worker
        assert time.monotonic() < deadline, "no preparing process"
        time.sleep(0.05)
    pool = Preparer._pool
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    job, errors = finished(runtime, queue(runtime, ROWS))
    assert (job.created, job.failed) == (2, 4)
    assert len({row for row, _column, _message in errors}) == 4
    assert [row[0] for row in stored(runtime)] == ["ann@example.com", "fay@example.com"]
    # The next import has a preparing process again.
    job, _errors = finished(runtime, queue(runtime, ["gil@example.com,Gil,Ma,,"]))
    assert job.created == 1
    assert Preparer._pool is not None and Preparer._pool is not pool


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def test_a_worker_killed_outright_takes_its_preparing_process_along(database_url: str) -> None:
    worker = worker_process(database_url)
    try:
        deadline = time.monotonic() + 60
        while not (children := children_of(worker.pid)):
            assert time.monotonic() < deadline, "the worker started no preparing process"
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    # Generous: a preparing process killed while still importing its modules (slow on a loaded
    # machine) starts watching its worker only once they are imported.
    deadline = time.monotonic() + 45
    while alive := {pid for pid in children if running(pid)}:
        assert time.monotonic() < deadline, f"still running: {alive}"
        time.sleep(0.1)


def running(pid: int) -> bool:
    """Neither gone nor a zombie (an exited process that init has not reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
