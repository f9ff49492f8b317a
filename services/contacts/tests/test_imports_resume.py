"""An import survives its worker: killed with SIGKILL mid-import, the job is taken over once its lease
runs out and resumes after the last committed chunk, so every row is applied exactly once (contacts and
companies: one pipeline); and a cancelled import stops between chunks with nothing half-written."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from contacts.companies.store import Company
from contacts.imports import api as imports_api
from contacts.imports import runner
from contacts.imports import store as imports_store
from contacts.imports.calls import Call
from contacts.store import Contact, messaging
from crm.contacts.v1 import imports_pb2
from crm_platform.access.context import acting_as
from crm_platform.db import reading
from crm_platform.resources.schema import TABLES
from crm_platform.service import Runtime
from crm_platform.testing.callers import caller

from .import_workers import worker_process

# Enough chunks (of 100 rows) that the kill lands mid-import.
ROWS = 1500


def queue_import(runtime: Runtime, rows: int = ROWS, resource: str = "contacts") -> str:
    if resource == "contacts":
        lines = ["email,first_name,last_name"] + [f"p{i}@example.com,F{i},L{i}" for i in range(rows)]
    else:
        lines = ["name,domain,external_id"] + [f"Company {i},c{i}.example.com,erp-{i}" for i in range(rows)]
    request = imports_pb2.CreateImportRequest(resource=resource, content=("\n".join(lines) + "\n").encode())
    with acting_as(caller("importer")):
        return imports_api.ImportsServicer(runtime).CreateImport(request, Call()).id  # type: ignore[arg-type]


def job(runtime: Runtime, job_id: str) -> Any:
    # A read-only transaction: on SQLite a writing one would queue behind the worker's chunks.
    with reading(runtime.sessions) as session:
        return imports_store.job_of(session, job_id, None)


def applied(runtime: Runtime, resource: str = "contacts") -> tuple[int, int, int, int]:
    """Records, distinct emails (domains), 'created' history entries and new records announced: a
    *_created event each, or an item of a contacts_imported or companies_imported (an import chunk's
    new records)."""
    model, key, event, batch = (
        (Contact, Contact.email, "contact_created", "contacts_imported")
        if resource == "contacts"
        else (Company, Company.domain, "company_created", "companies_imported")
    )
    outbox = messaging.outbox
    with runtime.engine.connect() as conn:
        batches = conn.execute(select(outbox.c.payload).where(outbox.c.routing_key == batch))
        announced_together = sum(len(json.loads(payload)["items"]) for payload in batches.scalars())
        return (
            conn.execute(select(func.count()).select_from(model)).scalar_one(),
            conn.execute(select(func.count(func.distinct(key)))).scalar_one(),
            conn.execute(
                select(func.count()).select_from(TABLES.history).where(TABLES.history.c.action == "created")
            ).scalar_one(),
            conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.routing_key == event)
            ).scalar_one()
            + announced_together,
        )


def wait_for(predicate: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("resource", ["contacts", "companies"])
def test_a_worker_killed_mid_import_is_resumed_and_each_row_applied_once(
    runtime: Runtime, database_url: str, resource: str
) -> None:
    job_id = queue_import(runtime, ROWS, resource)
    # Whole chunks of 100 on SQLite too (there they follow how long they take, and shrink under load).
    env = {
        **os.environ,
        "CRM_IMPORT_CHUNK_ROWS": "100",
        "CRM_IMPORT_LEASE_SECONDS": "2",
        "CRM_IMPORT_SQLITE_CHUNK_SECONDS": "60",
    }
    first = worker_process(database_url, env)
    try:
        wait_for(lambda: job(runtime, job_id).rows_done >= ROWS // 6)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed_at = job(runtime, job_id)
    assert killed_at.state == imports_store.RUNNING and killed_at.rows_done < ROWS
    # Only whole chunks were committed, each with its position: nothing half-written.
    assert killed_at.rows_done % 100 == 0
    assert applied(runtime, resource) == (killed_at.rows_done,) * 4

    second = worker_process(database_url, env)
    try:
        wait_for(lambda: job(runtime, job_id).state == imports_store.DONE)
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait(10)
    done = job(runtime, job_id)
    assert (done.rows_done, done.created, done.failed) == (ROWS, ROWS, 0)
    assert applied(runtime, resource) == (ROWS,) * 4


def test_two_workers_never_run_one_job(runtime: Runtime) -> None:
    job_id = queue_import(runtime, 1)
    lease = runner.timedelta(seconds=30)
    with runtime.sessions.begin() as session:
        assert imports_store.claim(session, "worker-a", lease) is not None
    with runtime.sessions.begin() as session:
        assert imports_store.claim(session, "worker-b", lease) is None
    assert job(runtime, job_id).lease_owner == "worker-a"


def test_a_cancelled_import_stops_between_chunks(runtime: Runtime, monkeypatch: Any) -> None:
    monkeypatch.setenv("CRM_IMPORT_CHUNK_ROWS", "50")
    job_id = queue_import(runtime)
    stopping = threading.Event()
    worker = threading.Thread(target=runner.run_imports, args=(runtime, stopping), daemon=True)
    worker.start()
    try:
        wait_for(lambda: job(runtime, job_id).rows_done >= 100)
        with runtime.sessions.begin() as session:
            assert imports_store.cancel(session, job_id)
        time.sleep(1)
    finally:
        stopping.set()
        worker.join(10)
    cancelled = job(runtime, job_id)
    assert cancelled.state == imports_store.CANCELLED and cancelled.rows_done < ROWS
    assert applied(runtime) == (cancelled.rows_done,) * 4


def test_a_job_that_breaks_the_worker_fails_instead_of_holding_the_queue(
    runtime: Runtime, monkeypatch: Any
) -> None:
    broken = queue_import(runtime, 10)
    fine = queue_import(runtime, 10)

    def explode(*_args: Any, **_kwargs: Any) -> None:
        monkeypatch.undo()  # only the first job meets the bug
        raise RuntimeError("a bug")

    monkeypatch.setattr(runner, "run_job", explode)
    stopping = threading.Event()
    worker = threading.Thread(target=runner.run_imports, args=(runtime, stopping), daemon=True)
    worker.start()
    try:
        wait_for(lambda: job(runtime, fine).state == imports_store.DONE)
    finally:
        stopping.set()
        worker.join(10)
    failed = job(runtime, broken)
    assert failed.state == imports_store.FAILED and "RuntimeError" in failed.error
