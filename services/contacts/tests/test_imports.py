"""Imports of contacts: a CSV or XLSX file queued over gRPC, applied by the worker's import loop through
the contacts servicer's own create and update, with exact per-row errors, dry runs that write nothing,
upserts by email, cancellation, and the caller's scope."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from contacts import api
from contacts.imports import api as imports_api
from contacts.imports import runner
from contacts.imports.fields import suggest_mapping
from contacts.store import Contact, messaging
from crm.contacts.v1 import contacts_pb2, imports_pb2, imports_pb2_grpc
from crm_platform.grpc_server import GrpcServer
from crm_platform.resources.schema import TABLES
from crm_platform.service import Runtime
from crm_platform.testing.callers import caller_metadata

from .import_workers import import_loop

DONE = imports_pb2.IMPORT_STATE_DONE


@pytest.fixture
def imports(runtime: Runtime) -> Iterator[imports_pb2_grpc.ImportsServiceStub]:
    server = GrpcServer(
        "contacts", "127.0.0.1:0", lambda s: [*api.register(s, runtime), *imports_api.register(s, runtime)]
    ).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield imports_pb2_grpc.ImportsServiceStub(channel)
    channel.close()
    server.stop(0)


@pytest.fixture
def worker(runtime: Runtime) -> Iterator[None]:
    with import_loop(runtime):
        yield


def csv_of(rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(r) for r in rows) + "\n").encode()


def start(stub: Any, content: bytes, *, user: str = "u1", role: str = "admin", **fields: Any) -> Any:
    fields.setdefault("filename", "people.csv")
    fields.setdefault("resource", "contacts")
    request = imports_pb2.CreateImportRequest(content=content, **fields)
    return stub.CreateImport(request, metadata=caller_metadata(user, role), timeout=30)


def wait(stub: Any, job_id: str, *, user: str = "u1", role: str = "admin", timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = stub.GetImport(imports_pb2.GetImportRequest(id=job_id), metadata=caller_metadata(user, role))
        if job.state not in (imports_pb2.IMPORT_STATE_QUEUED, imports_pb2.IMPORT_STATE_RUNNING):
            return job
        time.sleep(0.1)
    raise AssertionError(f"import {job_id} did not end")


def errors_of(stub: Any, job_id: str, user: str = "u1") -> list[tuple[int, str, str]]:
    found, cursor = [], ""
    while True:
        page = stub.ListImportErrors(
            imports_pb2.ListImportErrorsRequest(id=job_id, cursor=cursor, limit=1000),
            metadata=caller_metadata(user),
        )
        found += [(e.row, e.column, e.message) for e in page.items]
        cursor = page.next_cursor
        if not cursor:
            return found


def counts(runtime: Runtime) -> tuple[int, int, int]:
    """Contacts, history entries and outbox events."""
    with runtime.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(Contact)).scalar_one(),
            conn.execute(select(func.count()).select_from(TABLES.history)).scalar_one(),
            conn.execute(select(func.count()).select_from(messaging.outbox)).scalar_one(),
        )


def test_the_mapping_is_suggested_from_the_header_whatever_its_spelling() -> None:
    fields = [f.name for f in contacts_pb2.CreateContactRequest.DESCRIPTOR.fields]
    header = ["E-Mail Address", " first name ", "SURNAME", "Mobile", "Organisation", "Shoe size"]
    assert suggest_mapping(header, fields) == {
        "E-Mail Address": "email",
        " first name ": "first_name",
        "SURNAME": "last_name",
        "Mobile": "phone",
        "Organisation": "company",
    }


# SQLite only: the row path is the same on PostgreSQL (its tests below), where 10,000 rows one by one take
# minutes of the suite (bench/bench_import.py measures both).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_ten_thousand_rows_with_bad_ones_give_exact_per_row_errors(imports, worker, runtime) -> None:
    rows, expected = [["First name", "Last name", "Email", "Phone"]], []
    for i in range(10_000):
        number = i + 2  # the header is row 1
        if i % 997 == 5:
            rows.append([f"F{i}", f"L{i}", f"bad-{i}", ""])
            expected.append((number, "Email", "must be a valid email address"))
        elif i % 997 == 6:
            rows.append(["", f"L{i}", f"p{i}@example.com", "call me"])
            expected += [
                (number, "First name", "must be at least 1 characters"),
                (number, "Phone", "does not match regex pattern `^\\+?[0-9 ()./-]*$`"),
            ]
        else:
            # Valid numbers: the contacts service stores phones in E.164 and refuses invalid ones.
            rows.append([f"F{i}", f"L{i}", f"p{i}@example.com", f"+44 20 7946 {i:04d}"])
    job = start(imports, csv_of(rows))
    assert job.rows_total == 10_000 and dict(job.mapping)["Email"] == "email"
    job = wait(imports, job.id)
    bad_rows = len({row for row, _c, _m in expected})
    assert (job.state, job.rows_done, job.created, job.failed) == (DONE, 10_000, 10_000 - bad_rows, bad_rows)
    assert errors_of(imports, job.id) == expected
    assert counts(runtime)[0] == 10_000 - bad_rows


def test_a_dry_run_counts_and_reports_but_writes_nothing(imports, worker, runtime, client) -> None:
    client.create("known@example.com")
    before = counts(runtime)
    content = csv_of(
        [
            ["email", "first_name", "last_name"],
            ["new@example.com", "New", "Person"],
            ["KNOWN@example.com", "Ada", "Changed"],
            ["known@example.com", "Ada", "Changed"],
            ["broken", "B", "C"],
        ]
    )
    job = wait(imports, start(imports, content, dry_run=True).id)
    assert (job.created, job.updated, job.skipped, job.failed) == (1, 1, 1, 1)
    assert errors_of(imports, job.id) == [(5, "email", "must be a valid email address")]
    assert counts(runtime) == before


def test_rows_upsert_by_email_through_the_services_rules(imports, worker, client, runtime) -> None:
    existing = client.create("ada@example.com", first_name="Ada", last_name="Lovelace", company="Old")
    content = csv_of(
        [
            ["Email", "Company", "First", "Last"],
            ["  ADA@example.com ", "Analytical Engines", "", ""],  # empty cells leave fields alone
            ["grace@example.com", "Navy", "Grace", "Hopper"],
            ["ada@example.com", "Analytical Engines", "", ""],  # changes nothing now
        ]
    )
    job = wait(imports, start(imports, content).id)
    assert (job.created, job.updated, job.skipped, job.failed) == (1, 1, 1, 0), errors_of(imports, job.id)
    ada = client.get(existing.id)
    assert (ada.first_name, ada.company) == ("Ada", "Analytical Engines")
    # The service's own normalisation and events, as for any create and update: the import's new
    # contact announced in its chunk's contacts_imported, the same payload contact_created carries.
    recorded = client.outbox()
    types = [t for t, _ in recorded]
    assert types.count("contact_created") == 1 and types.count("contact_updated") == 1
    [imported] = [payload for t, payload in recorded if t == "contacts_imported"]
    [item] = imported["items"]
    assert (item["sequence"], item["data"]["email"], item["data"]["first_name"]) == (
        1,
        "grace@example.com",
        "Grace",
    )
    assert item["data"].keys() == next(p for t, p in recorded if t == "contact_created").keys()


def test_imported_contacts_carry_the_import_marker_in_their_events(imports, worker, runtime) -> None:
    content = csv_of([["email", "first_name", "last_name"], ["a@example.com", "A", "B"]])
    quiet = wait(imports, start(imports, content).id)
    loud = wait(
        imports,
        start(
            imports, csv_of([["email", "first_name", "last_name"], ["b@example.com", "B", "C"]]), notify=True
        ).id,
    )
    with runtime.engine.connect() as conn:
        headers = [
            row.headers
            for row in conn.execute(
                select(messaging.outbox.c.headers).order_by(messaging.outbox.c.created_at)
            )
        ]
    import json

    decoded = [json.loads(h) for h in headers]
    assert [(h["ce-crmorigin"], h["ce-crmnotify"], h["ce-crmimportjob"]) for h in decoded] == [
        ("import", "false", quiet.id),
        ("import", "true", loud.id),
    ]


def test_an_import_runs_as_its_caller_never_wider(imports, worker, client, runtime) -> None:
    client.create("theirs@example.com", user="someone-else")  # in the company's book, owned by another
    content = csv_of(
        [
            ["email", "first_name", "last_name"],
            ["mine@example.com", "M", "E"],
            ["theirs@example.com", "T", "Changed"],  # a rep may update only their own contacts
        ]
    )
    job = wait(
        imports, start(imports, content, user="rep", role="sales_rep").id, user="rep", role="sales_rep"
    )
    # The holder is out of the rep's scope: the row is refused as a create would be, naming nobody.
    assert errors_of(imports, job.id, user="rep") == [
        (3, "email", "a contact with email theirs@example.com already exists")
    ]
    # A partner user's rows go to their own book, and may not name another partner account.
    partner = {"user": "partner-user", "role": "partner"}
    content = csv_of(
        [
            ["email", "first_name", "last_name", "partner"],
            ["theirs@example.com", "P", "One", ""],
            ["other@example.com", "P", "Two", "p2"],
        ]
    )
    request = imports_pb2.CreateImportRequest(resource="contacts", filename="p.csv", content=content)
    metadata = caller_metadata("partner-user", "partner", partner_account_id="p1")
    job = imports.CreateImport(request, metadata=metadata)
    while job.state in (imports_pb2.IMPORT_STATE_QUEUED, imports_pb2.IMPORT_STATE_RUNNING):
        time.sleep(0.1)
        job = imports.GetImport(imports_pb2.GetImportRequest(id=job.id), metadata=metadata)
    assert (job.created, job.failed) == (1, 1), partner
    with runtime.engine.connect() as conn:
        owners = dict(
            conn.execute(select(Contact.email, Contact.owner_id).where(Contact.email != "theirs@x")).all()
        )
        books = conn.execute(
            select(Contact.partner_account_id, Contact.last_name).where(Contact.email == "theirs@example.com")
        ).all()
    assert owners["mine@example.com"] == "rep"
    assert sorted(books, key=str) == sorted([(None, "Lovelace"), ("p1", "One")], key=str)
    # Someone else's job is not found.
    with pytest.raises(grpc.RpcError) as caught:
        imports.GetImport(imports_pb2.GetImportRequest(id=job.id), metadata=caller_metadata("u1"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_xlsx_files_import_like_csv(imports, worker, runtime) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Email", "First Name", "Last Name", "Phone"])
    sheet.append(["x@example.com", "X", "Y", 2025550125])  # a number cell: a US number without +1
    buffer = io.BytesIO()
    book.save(buffer)
    job = wait(imports, start(imports, buffer.getvalue(), filename="people.xlsx").id)
    assert (job.format, job.created, job.failed) == ("xlsx", 1, 0)
    with runtime.engine.connect() as conn:
        assert conn.execute(select(Contact.phone)).scalar_one() == "+12025550125"  # in E.164


def test_a_bad_mapping_or_file_is_refused_at_once(imports) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        start(imports, csv_of([["Name", "Town"], ["a", "b"]]))
    assert (
        caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        and "email" in caught.value.details() + str(caught.value.trailing_metadata())
    )
    with pytest.raises(grpc.RpcError) as caught:
        start(imports, csv_of([["Email"], ["a@example.com"]]), mapping={"Email": "shoe_size"})
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_cancel_stops_a_queued_import(imports, runtime) -> None:
    job = start(imports, csv_of([["email"], ["a@example.com"]]))
    cancelled = imports.CancelImport(
        imports_pb2.CancelImportRequest(id=job.id), metadata=caller_metadata("u1")
    )
    assert cancelled.state == imports_pb2.IMPORT_STATE_CANCELLED
    stopping = threading.Event()
    thread = threading.Thread(target=runner.run_imports, args=(runtime, stopping), daemon=True)
    thread.start()
    time.sleep(1)
    stopping.set()
    thread.join(10)
    assert counts(runtime)[0] == 0
    again = imports.CancelImport(imports_pb2.CancelImportRequest(id=job.id), metadata=caller_metadata("u1"))
    assert again.state == imports_pb2.IMPORT_STATE_CANCELLED  # cancelling twice is no error


def test_an_ended_import_cannot_be_cancelled(imports, worker) -> None:
    job = wait(imports, start(imports, csv_of([["email"], ["a@example.com"]])).id)
    with pytest.raises(grpc.RpcError) as caught:
        imports.CancelImport(imports_pb2.CancelImportRequest(id=job.id), metadata=caller_metadata("u1"))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_row_refused_after_writing_leaves_nothing_behind(imports, worker, runtime, monkeypatch) -> None:
    """A rule that refuses a row after the service wrote part of it (here: while recording its event)
    sends the chunk back for a savepoint per row: that row leaves nothing, the others are applied."""
    from contacts import events
    from crm_platform.errors import FailedPrecondition

    recorded, recorded_together = events.record_contact_created, events.record_contacts_imported

    def refuse_b(session: Any, change: Any) -> str:
        if change.row.email == "b@example.com":
            raise FailedPrecondition("b is refused after its row was written")
        return recorded(session, change)

    def refuse_batch_with_b(session: Any, changes: Any) -> Any:
        if any(change.row.email == "b@example.com" for change in changes):
            raise FailedPrecondition("b is refused after its row was written")
        return recorded_together(session, changes)

    monkeypatch.setattr(events, "record_contact_created", refuse_b)
    monkeypatch.setattr(events, "record_contacts_imported", refuse_batch_with_b)
    content = csv_of([["email", "first_name", "last_name"], *([f"{n}@example.com", n, n] for n in "abc")])
    job = wait(imports, start(imports, content).id)
    assert (job.created, job.failed) == (2, 1)
    assert errors_of(imports, job.id) == [(3, "", "b is refused after its row was written")]
    with runtime.engine.connect() as conn:
        assert sorted(conn.execute(select(Contact.email)).scalars()) == ["a@example.com", "c@example.com"]
    assert counts(runtime) == (2, 2, 2)


def test_a_chunk_the_database_refuses_is_applied_row_by_row_with_exact_errors(
    imports, worker, client, runtime, monkeypatch
) -> None:
    """Another writer takes an email between the batch's look-up and its insert (here: the look-up is
    made blind to it): the unique index refuses the batch, the chunk is applied again one row at a
    time, and the row that collides gets the same error a create would have got; the others are in,
    once each, with their history and events."""
    from contacts import store

    work = contacts_pb2.ContactEmail(address="ada.work@example.com")
    client.stub.CreateContact(
        contacts_pb2.CreateContactRequest(
            first_name="Ada", last_name="Lovelace", email="ada@example.com", emails=[work]
        ),
        metadata=client.metadata(),
        timeout=10,
    )
    seen = store._email_holders

    def before_the_other_writer(session: Any, books: Any, emails: Any) -> Any:
        return {key: row for key, row in seen(session, books, emails).items() if key[1] != work.address}

    monkeypatch.setattr(store, "_email_holders", before_the_other_writer)
    content = csv_of(
        [
            ["email", "first_name", "last_name"],
            ["one@example.com", "One", "A"],
            [work.address, "Work", "B"],  # not Ada's primary email, so a create: it collides
            ["two@example.com", "Two", "C"],
        ]
    )
    job = wait(imports, start(imports, content).id)
    assert (job.created, job.updated, job.failed) == (2, 0, 1)
    assert errors_of(imports, job.id) == [
        (3, "email", "a contact with email ada.work@example.com already exists")
    ]
    with runtime.engine.connect() as conn:
        emails = sorted(conn.execute(select(Contact.email)).scalars())
    assert emails == ["ada@example.com", "one@example.com", "two@example.com"]
    assert counts(runtime) == (3, 3, 3)  # contacts, 'created' history entries, contact_created events


def test_a_phone_taken_in_the_book_refuses_the_row_as_a_create_would(imports, worker, client) -> None:
    """The batch keeps CreateContact's duplicate-phone rule: a primary phone held in the book before,
    or by an earlier row of the file, refuses the row (in E.164, however it was written)."""
    client.create("ada@example.com", phone="+44 20 7946 0001")
    content = csv_of(
        [
            ["email", "first_name", "last_name", "phone"],
            ["a@example.com", "A", "A", "+44 (20) 7946-0001"],  # Ada's number, written another way
            ["b@example.com", "B", "B", "+44 20 7946 0002"],
            ["c@example.com", "C", "C", "+442079460002"],  # b's, one row earlier
        ]
    )
    job = wait(imports, start(imports, content).id)
    assert (job.created, job.failed) == (1, 2)
    # Told on the email column, as any taken-in-the-book answer of a create is.
    assert errors_of(imports, job.id) == [
        (2, "email", "a contact with phone +442079460001 already exists"),
        (4, "email", "a contact with phone +442079460002 already exists"),
    ]


def test_a_file_imported_again_is_skipped_without_a_write_and_scope_still_refuses(
    imports, worker, client, runtime
) -> None:
    """Rows that change nothing are told without UpdateContact (imports/unchanged.py): skipped, with
    nothing written; a row that changes something is still an update, and a row for a contact the caller
    may not update is still refused, even when it would change nothing."""
    theirs = client.create("theirs@example.com", user="someone-else", first_name="T", last_name="Theirs")
    rows = [
        ["email", "first_name", "last_name", "phone", "tags"],
        ["a@example.com", "A", "Alpha", "+44 20 7946 0001", "vip;Gold"],
        ["b@example.com", "B", "Beta", "", ""],
    ]
    first = wait(imports, start(imports, csv_of(rows)).id)
    assert (first.created, first.failed) == (2, 0), errors_of(imports, first.id)
    before = counts(runtime)
    again = [
        rows[0],
        ["A@Example.com ", "A", "Alpha", "+44 (20) 7946-0001", "VIP; gold"],  # the same, written otherwise
        ["b@example.com", "B", "Beta-Changed", "", ""],
    ]
    job = wait(imports, start(imports, csv_of(again)).id)
    assert (job.created, job.updated, job.skipped, job.failed) == (0, 1, 1, 0), errors_of(imports, job.id)
    contacts, history, events = counts(runtime)
    assert (contacts, history, events) == (before[0], before[1] + 1, before[2] + 1)  # b's update only
    # A rep re-importing someone else's contact as it is: refused as before, naming nobody.
    same = [["email", "first_name", "last_name"], ["theirs@example.com", "T", "Theirs"]]
    job = wait(imports, start(imports, csv_of(same), user="rep", role="sales_rep").id, user="rep")
    assert errors_of(imports, job.id, user="rep") == [
        (2, "email", "a contact with email theirs@example.com already exists")
    ]
    assert client.get(theirs.id).etag == theirs.etag


# --- external ids --------------------------------------------------------------------------------------


def _create_with_external_id(client: Any, email: str, external_id: str, **fields: str) -> Any:
    request = contacts_pb2.CreateContactRequest(
        first_name=fields.get("first_name", "Ada"),
        last_name=fields.get("last_name", "Lovelace"),
        email=email,
        external_id=external_id,
    )
    return client.stub.CreateContact(request, metadata=client.metadata(fields.get("user", "u1")), timeout=10)


def test_external_id_round_trips_is_filterable_and_unique_in_its_book(client) -> None:
    ada = _create_with_external_id(client, "ada@example.com", "  crm-1 ")
    assert client.get(ada.id).external_id == "crm-1"  # trimmed
    _create_with_external_id(client, "grace@example.com", "crm-2")
    assert [c.id for c in client.list(filter='external_id = "crm-1"').items] == [ada.id]
    with pytest.raises(grpc.RpcError) as caught:
        _create_with_external_id(client, "other@example.com", "crm-1")
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "external_id crm-1" in caught.value.details()
    # An update to a taken external id is refused the same way; to a free one it is kept.
    grace = client.list(filter='external_id = "crm-2"').items[0]
    with pytest.raises(grpc.RpcError) as caught:
        client.update(grace.id, ["external_id"], external_id="crm-1")
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert client.update(grace.id, ["external_id"], external_id="crm-3").external_id == "crm-3"
    # Contacts without one never collide.
    client.create("x@example.com")
    client.create("y@example.com")


def test_rows_upsert_by_external_id_first_then_by_email(imports, worker, client, runtime) -> None:
    moved = _create_with_external_id(client, "old@example.com", "ext-1", first_name="Moved")
    by_email = client.create("known@example.com", first_name="Known")
    content = csv_of(
        [
            ["External ID", "Email", "First name", "Last name"],
            ["ext-1", "new-address@example.com", "Moved", "Again"],  # matched by its external id
            ["ext-2", "known@example.com", "Known", "Person"],  # no such external id: by email, gets it
            ["ext-3", "fresh@example.com", "Fresh", "Row"],  # neither: created, with it
            ["ext-3", "", "Fresh", "Row"],  # the row above's contact, by external id alone: unchanged
            ["", "", "No", "Key"],  # nothing to match by
        ]
    )
    job = wait(imports, start(imports, content).id)
    assert dict(job.mapping)["External ID"] == "external_id"
    assert (job.created, job.updated, job.skipped, job.failed) == (1, 2, 1, 1), errors_of(imports, job.id)
    assert errors_of(imports, job.id) == [
        (6, "Email", "is required when the row has no external_id (it matches the row to a contact)")
    ]
    assert (client.get(moved.id).email, client.get(moved.id).last_name) == (
        "new-address@example.com",
        "Again",
    )
    assert client.get(by_email.id).external_id == "ext-2"
    fresh = client.list(filter='external_id = "ext-3"').items
    assert [c.email for c in fresh] == ["fresh@example.com"]
    # The same file as a dry run now: every row matches by the same rule, nothing changes.
    before = counts(runtime)
    dry = wait(imports, start(imports, content, dry_run=True).id)
    assert (dry.created, dry.updated, dry.skipped, dry.failed) == (0, 0, 4, 1)
    assert counts(runtime) == before


def test_a_dry_run_counts_external_id_upserts_by_the_same_rule(imports, worker, client, runtime) -> None:
    _create_with_external_id(client, "a@example.com", "A-1")
    before = counts(runtime)
    content = csv_of(
        [
            ["external_id", "email", "first_name", "last_name"],
            ["A-1", "a@example.com", "A", "Changed"],  # update, by external id
            ["B-1", "b@example.com", "B", "New"],  # create
            ["B-1", "b@example.com", "B", "New"],  # the row above's contact, unchanged (a dry "create")
            ["C-1", "a@example.com", "C", "C"],  # by email: A, whose external id it would change
        ]
    )
    dry = wait(imports, start(imports, content, dry_run=True).id)
    assert (dry.created, dry.updated, dry.skipped, dry.failed) == (1, 2, 1, 0), errors_of(imports, dry.id)
    assert counts(runtime) == before
    done = wait(imports, start(imports, content).id)
    assert (done.created, done.updated, done.skipped, done.failed) == (1, 2, 1, 0)
    assert client.list(filter='external_id = "C-1"').items[0].email == "a@example.com"


def test_an_external_id_held_out_of_scope_refuses_the_row_on_its_column(imports, worker, client) -> None:
    _create_with_external_id(client, "theirs@example.com", "T-1", user="someone-else")
    content = csv_of(
        [
            ["email", "first_name", "last_name", "Legacy ID"],
            ["mine@example.com", "M", "E", "T-1"],  # T-1 is held out of the rep's scope: refused
            ["two@example.com", "T", "W", "X-1"],
            ["three@example.com", "T", "H", "X-1"],  # the row above's contact: its email changes
        ]
    )
    job = wait(imports, start(imports, content, user="rep", role="sales_rep").id, user="rep")
    assert (job.created, job.updated, job.failed) == (1, 1, 1), errors_of(imports, job.id, user="rep")
    assert errors_of(imports, job.id, user="rep") == [
        (2, "Legacy ID", "a contact with external_id T-1 already exists")
    ]
    assert [c.email for c in client.list(filter='external_id = "X-1"').items] == ["three@example.com"]
