"""The import worker: claims a job with a lease, then applies its rows in chunks, each chunk one
transaction that also records the rows' errors and the new position, so a worker that dies loses at most
an uncommitted chunk and whoever takes the job over (after the lease runs out) resumes right after the
last committed one: each row is applied exactly once.

Rows go through the contacts service's own write paths: the servicer's CreateContact and UpdateContact
(the domain's rules, the email unique per book, scope and rights, history, the outbox event), run inside
the chunk's transaction. Each row gets a savepoint of its own (the `sessions` those methods are handed
open a savepoint instead of a transaction), so a refused row leaves nothing behind and the others stay.
A dry run does the same work and rolls the chunk's rows back, keeping only the errors and counts.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from typing import Any

from google.protobuf import field_mask_pb2
from sqlalchemy import Connection, event
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from contacts import api as contacts_api
from contacts import store as contacts_store
from contacts.domain import normalise_email
from contacts.imports import fields as fieldmap
from contacts.imports import store
from contacts.imports.batch import CreateBatch, Key, PendingCreate, checked_create
from contacts.imports.files import UnreadableFile, read_rows
from contacts.imports.unchanged import UnchangedRows
from crm.contacts.v1 import contacts_pb2
from crm_platform import config
from crm_platform.access import CallerContext, Ownership
from crm_platform.access.context import acting_as
from crm_platform.db import is_sqlite, transaction
from crm_platform.errors import AlreadyExists, DomainError, InvalidArgument, NotFound
from crm_platform.events import event_headers
from crm_platform.resources.etag import etag_of
from crm_platform.resources.methods import ownership_for_create
from crm_platform.service import Runtime
from crm_platform.validation import contract_violations

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
POLL_SECONDS = 0.5
PAUSE_BETWEEN_CHUNKS_SECONDS = 0.01
KEY_FIELD = "email"  # upserts match an existing contact of the same book by email
# Headers of the events an import records: subscribers (notifications' welcome) can tell them apart.
ORIGIN_HEADER, NOTIFY_HEADER, JOB_HEADER = "ce-crmorigin", "ce-crmnotify", "ce-crmimportjob"


class LostJob(Exception):
    """The job was cancelled or taken over while this worker applied a chunk: the chunk is rolled back."""


# --- the service's own write paths, inside the chunk's transaction ----------------------------------


class _SavepointSession:
    """The chunk's session seen through one savepoint: `commit` releases it, `rollback` undoes it and
    `close` leaves the chunk's transaction open."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._savepoint = session.begin_nested()

    def commit(self) -> None:
        self._savepoint.commit()

    def rollback(self) -> None:
        if self._savepoint.is_active:
            self._savepoint.rollback()

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class _Savepoints:
    """Stands in for the service's sessionmaker: each session it makes is a savepoint of the chunk."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.kw = {"bind": session.get_bind()}

    def __call__(self) -> _SavepointSession:
        return _SavepointSession(self._session)


class _Borrowed:
    """The chunk's session as is: the service's commit, rollback and close leave the chunk's transaction
    alone (the fast attempt: see ContactRows.apply)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.kw = {"bind": session.get_bind()}

    def __call__(self) -> _Borrowed:
        return self

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class _Redo(Exception):
    """A row failed in a way a savepoint must undo: the chunk's fast attempt is abandoned."""


class _WriteCounter:
    """Counts the statements that write, on one connection, while it is open."""

    _WRITES = ("INSERT", "UPDATE", "DELETE")

    def __init__(self, connection: Connection) -> None:
        self.count = 0
        self._connection = connection
        event.listen(connection, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip()[:6].upper() in self._WRITES:
            self.count += 1

    def close(self) -> None:
        event.remove(self._connection, "before_cursor_execute", self._seen)


class _Call:
    """The servicer context of an in-process call: no metadata (so no idempotency key)."""

    def invocation_metadata(self) -> tuple[()]:
        return ()

    def send_initial_metadata(self, _metadata: Any) -> None:
        pass


# --- one job ----------------------------------------------------------------------------------------


@dataclass
class Chunk:
    counts: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
    )
    errors: list[tuple[int, str, str]] = field(default_factory=list)


class ContactRows:
    """Applies rows of one job to contacts, as the job's caller."""

    def __init__(self, header: list[str], mapping: dict[str, str], caller: CallerContext) -> None:
        self.caller = caller
        self.columns = [
            (index, column, mapping[column]) for index, column in enumerate(header) if column in mapping
        ]
        self.column_of = {f: c for c, f in mapping.items()}
        self.contact_fields = set(contacts_pb2.Contact.DESCRIPTOR.fields_by_name)
        # (book, email) of contacts a dry run "created" in an earlier chunk (rolled back since).
        self.dry_created: set[Key] = set()
        self._ownerships: dict[tuple[str, str, str], Ownership | None] = {}
        self._definitions: Any = None  # the custom fields' definitions, read by each chunk's first create
        self.matched = UnchangedRows(caller, contacts_api.DEFAULT_PHONE_REGION.get())

    def values(self, cells: list[str]) -> dict[str, str]:
        """Field -> the row's cell, stripped; an empty cell is no value (an update leaves the field)."""
        found = {}
        for index, _column, name in self.columns:
            if index < len(cells) and (text := cells[index].strip()):
                found[name] = text
        return found

    def apply(self, session: Session, rows: list[tuple[int, list[str]]], dry_run: bool) -> Chunk:
        """The chunk's rows applied in `session`'s transaction. First without a savepoint per row (they
        cost two statements a row): a refused row has then written nothing, since the service's rules
        refuse before writing. Should a row fail after writing (or the database refuse a statement),
        the attempt is rolled back and the chunk applied again with a savepoint per row."""
        created_before = set(self.dry_created)
        try:
            with session.begin_nested():
                return self._apply(session, rows, dry_run, fast=True)
        except _Redo as redo:
            log.info("import chunk redone with a savepoint per row: %s", redo)
            self.dry_created = created_before
            return self._apply(session, rows, dry_run, fast=False)

    def _apply(
        self, session: Session, rows: list[tuple[int, list[str]]], dry_run: bool, *, fast: bool
    ) -> Chunk:
        chunk = Chunk()
        sessions = _Borrowed(session) if fast else _Savepoints(session)
        servicer = contacts_api.ContactsServicer(
            Runtime("contacts", session.get_bind(), sessions, contacts_store.messaging)  # type: ignore[arg-type]
        )
        parsed = [(number, self.values(cells)) for number, cells in rows]
        known = self._existing(session, {normalise_email(v.get(KEY_FIELD, "")) for _n, v in parsed} - {""})
        # The fast attempt writes the chunk's new contacts together (batch.py); the redo one by one.
        creates = CreateBatch() if fast else None
        self._definitions = None
        writes = _WriteCounter(session.connection())
        try:
            for number, values in parsed:
                if creates is not None and self._queue_create(
                    servicer, session, creates, known, number, values, dry_run, chunk
                ):
                    continue
                written = writes.count
                try:
                    outcome = self._row(session, servicer, known, values, dry_run)
                except DomainError as error:
                    if fast and (writes.count != written or session.new or session.dirty or session.deleted):
                        raise _Redo(f"row {number} was refused after writing") from None
                    self._refuse(chunk, number, values, error)
                    continue
                except (OperationalError, InterfaceError):
                    raise  # the database is away: the chunk is retried, not its rows blamed
                except Exception as error:
                    if fast:
                        raise _Redo(f"row {number}: {type(error).__name__}") from None
                    log.exception("import row %d failed unexpectedly", number)
                    chunk.errors.append((number, "", "could not be applied (internal error; it was logged)"))
                    outcome = "failed"
                chunk.counts[outcome] += 1
            if creates is not None:
                self._write_creates(servicer, session, creates, known, dry_run, chunk)
        finally:
            writes.close()
        return chunk

    def _queue_create(
        self,
        servicer: contacts_api.ContactsServicer,
        session: Session,
        creates: CreateBatch,
        known: dict[Key, tuple[str, str]],
        number: int,
        values: dict[str, str],
        dry_run: bool,
        chunk: Chunk,
    ) -> bool:
        """A row that creates a contact joins the chunk's batch, once the service's rules accept it
        (refused: its errors are recorded). False for a row to apply on its own (an update)."""
        try:
            request, key = self._request(values)
            if key in creates:  # a later row of a contact the batch creates: it updates it once written
                self._write_creates(servicer, session, creates, known, dry_run, chunk)
            if key in known or key in self.dry_created:
                # Every earlier row is written before an update, so its email check sees them, as when
                # rows are applied one by one.
                self._write_creates(servicer, session, creates, known, dry_run, chunk)
                return False
            if self._definitions is None:  # the custom fields' catalogue, read once per chunk
                self._definitions = servicer.custom_fields.definitions(session)
            checked = checked_create(servicer, session, request, self._definitions)
        except DomainError as error:
            self._refuse(chunk, number, values, error)
            return True
        except (OperationalError, InterfaceError, _Redo):
            raise
        except Exception as error:
            raise _Redo(f"row {number}: {type(error).__name__}") from None
        creates.add(PendingCreate(number, values, key, checked))
        return True

    def _write_creates(
        self,
        servicer: contacts_api.ContactsServicer,
        session: Session,
        creates: CreateBatch,
        known: dict[Key, tuple[str, str]],
        dry_run: bool,
        chunk: Chunk,
    ) -> None:
        if not len(creates):
            return
        try:
            written = creates.flush(servicer, session, self.caller.subject)
        except IntegrityError as error:
            # Another writer took an email since the batch looked (or a constraint the rules do not
            # know): one by one, each row gets its own answer.
            raise _Redo(f"a batch of creates was refused by the database: {error.orig}") from None
        except DomainError as error:  # a rule that refuses after writing: which row is for the redo to tell
            raise _Redo(f"a batch of creates was refused after writing: {error.message}") from None
        for create, outcome in written:
            if isinstance(outcome, DomainError):
                self._refuse(chunk, create.number, create.values, outcome)
                continue
            known[create.key] = (outcome.row.id, etag_of(outcome.row.id, outcome.version))
            if dry_run:
                self.dry_created.add(create.key)
            chunk.counts["created"] += 1

    def _refuse(self, chunk: Chunk, number: int, values: dict[str, str], error: DomainError) -> None:
        chunk.errors.extend((number, column, text) for column, text in self._explain(error, values))
        chunk.counts["failed"] += 1

    def _existing(self, session: Session, emails: set[str]) -> dict[tuple[str, str], tuple[str, str]]:
        """(book, email) -> (id, etag) of the contacts these rows may match, fetched once per chunk (and
        kept whole for telling the updates that change nothing)."""
        found = self.matched.load(session, emails)
        return {(row.uniqueness_book, row.email): (row.id, etag_of(row.id, row.version)) for row in found}

    def _ownership(self, request: contacts_pb2.CreateContactRequest) -> Ownership | None:
        """What a contact created from this row would own (the caller's rights checked; DomainError
        when they may not), remembered per asked owner, team and partner account."""
        asked = (request.owner_id, request.team_id, request.partner_account_id)
        if asked not in self._ownerships:
            self._ownerships[asked] = ownership_for_create(contacts_store.contacts, request)
        return self._ownerships[asked]

    def _book(self, request: contacts_pb2.CreateContactRequest) -> str:
        try:
            ownership = self._ownership(request)
        except DomainError:  # may not create: still may update a contact of their own book
            return contacts_store.book_of(self.caller.partner_account_id)
        return contacts_store.book_of(ownership.partner_account_id if ownership is not None else None)

    def _request(self, values: dict[str, str]) -> tuple[contacts_pb2.CreateContactRequest, Key]:
        """The row as a create request, and the (book, email) it matches a contact by."""
        request = contacts_pb2.CreateContactRequest()
        problems = fieldmap.fill(request, values)
        if problems:
            raise InvalidArgument("cells do not fit their fields", problems)
        email = normalise_email(values.get(KEY_FIELD, ""))
        if not email:
            raise InvalidArgument("no email", {KEY_FIELD: "is required (it matches the row to a contact)"})
        return request, (self._book(request), email)

    def _row(
        self,
        session: Session,
        servicer: contacts_api.ContactsServicer,
        known: dict[tuple[str, str], tuple[str, str]],
        values: dict[str, str],
        dry_run: bool,
    ) -> str:
        request, (book, email) = self._request(values)
        held = known.get((book, email))
        if held is None and (book, email) in self.dry_created:
            return "updated"  # created by an earlier chunk of this dry run
        if held is None:
            violations = contract_violations(request)
            if violations:
                raise InvalidArgument("the row breaks the contract's field rules", violations)
            created = servicer.CreateContact(request, _Call())  # type: ignore[arg-type]
            known[(book, email)] = (created.id, created.etag)
            if dry_run:
                self.dry_created.add((book, email))
            return "created"
        contact_id, before = held
        partial = contacts_pb2.Contact(id=contact_id)
        paths = sorted(name for name in values if name in self.contact_fields)
        problems = fieldmap.fill(partial, {name: values[name] for name in paths})
        if problems:
            raise InvalidArgument("cells do not fit their fields", problems)
        if self.matched.unchanged(contact_id, partial, paths):
            return "skipped"
        self.matched.forget(contact_id)
        try:
            changed = servicer.UpdateContact(
                contacts_pb2.UpdateContactRequest(
                    contact=partial, update_mask=field_mask_pb2.FieldMask(paths=paths)
                ),
                _Call(),  # type: ignore[arg-type]
            )
        except NotFound:
            # The book's holder of this email is out of the caller's scope: told as a create would be told,
            # naming nobody.
            raise contacts_store.EmailTaken(email) from None
        known[(book, email)] = (contact_id, changed.etag)
        return "skipped" if changed.etag == before else "updated"

    def _explain(self, error: DomainError, values: dict[str, str]) -> Iterator[tuple[str, str]]:
        """(column, message) for each thing wrong with a row."""
        if isinstance(error, InvalidArgument) and error.fields:
            for name, text in error.fields.items():
                bare = name.removeprefix("contact.")
                column = self.column_of.get(bare, "")
                yield column, f"{bare} {text}" if not column else text
            return
        column = self.column_of.get(KEY_FIELD, "") if isinstance(error, AlreadyExists) else ""
        yield column, error.message


def _skip(rows: Iterator[tuple[int, list[str]]], count: int) -> None:
    for _ in islice(rows, count):
        pass


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
    applier = ContactRows(header, dict(job.mapping), caller)
    headers = {ORIGIN_HEADER: "import", NOTIFY_HEADER: "true" if job.notify else "false", JOB_HEADER: job.id}
    position = job.rows_done
    sqlite = is_sqlite(runtime.engine)
    log.info(
        "import %s: starting at row %d of %d", job.id, position, job.rows_total, extra={"job_id": job.id}
    )
    while True:
        chunk_rows_list = list(islice(rows, chunk_rows))
        finished = len(chunk_rows_list) < chunk_rows
        try:
            with acting_as(caller), event_headers(headers), transaction(runtime.sessions) as session:
                if job.dry_run:
                    everything = session.begin_nested()
                    chunk = applier.apply(session, chunk_rows_list, True)
                    everything.rollback()
                else:
                    chunk = applier.apply(session, chunk_rows_list, False)
                store.add_errors(session, job.id, chunk.errors)
                position += len(chunk_rows_list)
                if not store.advance(session, job.id, owner, lease, position, chunk.counts, finished):
                    raise LostJob(job.id)
        except LostJob:
            log.info("import %s: cancelled or taken over; stopping", job.id, extra={"job_id": job.id})
            return
        if finished:
            log.info("import %s: done", job.id, extra={"job_id": job.id})
            return
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
    while not stopping.is_set():
        try:
            with transaction(runtime.sessions) as session:
                job = store.claim(session, owner, lease)
            if job is None:
                stopping.wait(POLL_SECONDS)
                continue
            try:
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
