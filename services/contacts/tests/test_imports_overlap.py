"""On PostgreSQL an import writes two chunks at once and commits them in the file's order (overlap.py):
what it leaves (counts, per-row errors, the contacts, their history and events) is exactly what one chunk
at a time leaves, for a file that names records again across chunks, with bad rows and a taken phone;
and still so when the check for shared keys misses one (the chunks then wait for each other, or one steps
back and is applied again)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from contacts import api
from contacts.imports import api as imports_api
from contacts.imports import overlap
from contacts.main import DEFINITION
from contacts.store import Contact, messaging
from crm.contacts.v1 import imports_pb2_grpc
from crm_platform.grpc_server import GrpcServer
from crm_platform.resources.schema import TABLES
from crm_platform.testing.migrated import open_migrated_runtime

from .import_workers import import_loop
from .test_imports import DONE, csv_of, errors_of, start, wait

pytestmark = pytest.mark.postgres

CHUNK_ROWS = "4"


def _file(rows: int, *, phones: bool = True) -> bytes:
    """People p0..; some rows name a record of an earlier chunk again (its email: an update of what that
    row created; its phone under a new email: refused as taken), some are bad."""
    lines = [["First name", "Last name", "Email", "Phone"]]
    for i in range(rows):
        phone = f"+44 20 7946 {i:04d}" if phones else ""
        if i % 11 == 5:  # the email of a row of the chunk just before
            lines.append([f"Again{i}", f"L{i}", f"p{i - 4}@example.com", ""])
        elif i % 13 == 9 and phones:  # the phone of a row of the chunk before, under a new email
            lines.append([f"F{i}", f"L{i}", f"p{i}@example.com", f"+44 20 7946 {i - 3:04d}"])
        elif i % 17 == 3:
            lines.append([f"F{i}", f"L{i}", f"not-an-email-{i}", phone])
        elif i % 19 == 7:  # a row of a chunk far above
            lines.append([f"Later{i}", f"L{i}", "p1@example.com", ""])
        else:
            lines.append([f"F{i}", f"L{i}", f"p{i}@example.com", phone])
    return csv_of(lines)


def _imported(url: str, content: bytes) -> dict[str, Any]:
    """The job's outcome and what it left in a fresh database."""
    runtime = open_migrated_runtime(DEFINITION, url)
    server = GrpcServer(
        "contacts", "127.0.0.1:0", lambda s: [*api.register(s, runtime), *imports_api.register(s, runtime)]
    ).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        stub = imports_pb2_grpc.ImportsServiceStub(channel)
        with import_loop(runtime):
            job = wait(stub, start(stub, content).id)
        errors = errors_of(stub, job.id)
        with runtime.engine.connect() as conn:
            contacts = conn.execute(
                select(
                    Contact.first_name, Contact.last_name, Contact.email, Contact.phone, Contact.version
                ).order_by(Contact.email)
            ).all()
            history = conn.execute(select(func.count()).select_from(TABLES.history)).scalar_one()
            events = conn.execute(select(func.count()).select_from(messaging.outbox)).scalar_one()
        return {
            "job": (job.state, job.rows_done, job.created, job.updated, job.skipped, job.failed),
            "errors": errors,
            "contacts": [tuple(row) for row in contacts],
            "history": history,
            "events": events,
        }
    finally:
        channel.close()
        server.stop(0)
        runtime.engine.dispose()


def _both_ways(
    postgres_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch, content: bytes
) -> tuple[dict[str, Any], dict[str, Any]]:
    monkeypatch.setenv("CRM_IMPORT_CHUNK_ROWS", CHUNK_ROWS)
    monkeypatch.setenv("CRM_IMPORT_OVERLAP", "false")
    one_at_a_time = _imported(postgres_database("one_at_a_time"), content)
    monkeypatch.setenv("CRM_IMPORT_OVERLAP", "true")
    overlapped = _imported(postgres_database("overlapped"), content)
    return one_at_a_time, overlapped


def test_two_chunks_at_once_leave_what_one_at_a_time_leaves(
    postgres_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    one_at_a_time, overlapped = _both_ways(postgres_database, monkeypatch, _file(60))
    state, rows_done, created, updated, _skipped, failed = one_at_a_time["job"]
    # The file is what the test means it to be: updates across chunks, taken phones, bad rows.
    assert (state, rows_done) == (DONE, 60) and updated >= 5 and failed >= 6 and created > 40
    taken = [message for _row, _column, message in one_at_a_time["errors"] if "with phone" in message]
    assert len(taken) >= 3 and all(message.endswith("already exists") for message in taken)
    assert overlapped == one_at_a_time


def test_a_shared_key_the_check_misses_loses_no_row_and_makes_no_duplicate(
    postgres_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Emails repeated across chunks, the key check told to see none, so chunks that share keys are in
    flight together: a later chunk waits on the earlier one's new email (then updates what it created),
    or the earlier one waits on the later one's, which steps back and is applied again. A row can then
    also meet the record an earlier chunk committed between reading which records its rows name and
    creating it, and is refused as taken (as when an API call creates that email meanwhile) instead of
    updating it. What must hold: every row is accounted for once, every email is one contact, and the
    refusals are the taken ones or those of one at a time."""
    monkeypatch.setattr(overlap, "conflict_keys", lambda _applier, _rows: frozenset())
    monkeypatch.setattr(overlap, "EARLIER_CHUNK_WAIT_SECONDS", 1.0)
    content = _file(40, phones=False)
    one_at_a_time, overlapped = _both_ways(postgres_database, monkeypatch, content)
    assert one_at_a_time["job"][3] >= 3  # updates across chunks
    state, rows_done, created, updated, skipped, failed = overlapped["job"]
    assert (state, rows_done, created + updated + skipped + failed) == (DONE, 40, 40)
    emails = [email for _f, _l, email, _p, _v in overlapped["contacts"]]
    assert sorted(emails) == sorted(email for _f, _l, email, _p, _v in one_at_a_time["contacts"])
    assert len(set(emails)) == len(emails)
    expected = set(one_at_a_time["errors"])
    extra = [error for error in map(tuple, overlapped["errors"]) if error not in expected]
    assert all(message.endswith("already exists") for _row, _column, message in extra), extra
    assert len(overlapped["errors"]) == len(expected) + len(extra)
