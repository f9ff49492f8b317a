"""Applying a chunk of an import's rows, for any resource (its Adapter: adapter.py), as the job's caller.

Each row is a Create request decoded from its cells as the REST API decodes JSON (fields.py), matched to
a record of its book by its keys in order (external id, then email or domain), and applied through the
resource's servicer in-process, inside the chunk's transaction: an update of the record it matches, or
a create. With an adapter that batches (contacts), the chunk's creates are checked as they come and
written together (batch.py). A chunk runs first without a savepoint per row (the service's rules refuse
before writing); a row refused after a write, a batch the database refuses, or any statement it refuses
sends the chunk back one row at a time with a savepoint each (calls.Savepoints), so every error names
its row exactly. A dry run does the same work; the runner rolls the chunk back, keeping errors and counts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from contacts import external_ids
from contacts import store as contacts_store
from contacts.imports import fields as fieldmap
from contacts.imports.adapter import EXTERNAL_ID, Adapter, Key
from contacts.imports.batch import CreateBatch, PendingCreate
from contacts.imports.calls import Borrowed, Savepoints, WriteCounter
from contacts.imports.preparing import PreparedRow
from crm_platform.access import Ownership
from crm_platform.errors import AlreadyExists, DomainError, InvalidArgument, NotFound
from crm_platform.events import ordering
from crm_platform.resources.etag import etag_of
from crm_platform.resources.methods import ownership_for_create
from crm_platform.service import Runtime
from crm_platform.validation import contract_violations

log = logging.getLogger(__name__)


class Redo(Exception):
    """A row failed in a way a savepoint must undo: the chunk's fast attempt is abandoned."""


@dataclass
class Chunk:
    counts: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
    )
    errors: list[tuple[int, str, str]] = field(default_factory=list)


class Known:
    """The chunk's records by key: key -> (id, etag), kept right as rows create and update them (an
    update that changes a record's email or external id moves its key)."""

    def __init__(self) -> None:
        self._by_key: dict[Key, tuple[str, str]] = {}
        self._keys_of: dict[str, dict[str, Key]] = {}

    def match(self, keys: Sequence[Key]) -> tuple[Key, tuple[str, str]] | None:
        """The first of `keys` (in their order of precedence) a record holds, with that record."""
        for key in keys:
            held = self._by_key.get(key)
            if held is not None:
                return key, held
        return None

    def remember(self, record_id: str, etag: str, keys: Sequence[Key]) -> None:
        """The record holds `keys` now (and any other key it held, of other fields), at `etag`."""
        held = self._keys_of.setdefault(record_id, {})
        for key in keys:
            old = held.get(key[1])
            if old is not None and old != key and self._by_key.get(old, ("",))[0] == record_id:
                del self._by_key[old]
            held[key[1]] = key
        for key in held.values():
            self._by_key[key] = (record_id, etag)


def _book_of(partner_account_id: str | None) -> str:
    """A record's uniqueness book: its partner account's, or the company's own ("")."""
    return partner_account_id or ""


class Rows:
    """Applies rows of one job to its resource, as the job's caller (the adapter's)."""

    def __init__(self, adapter: Adapter, header: list[str], mapping: dict[str, str]) -> None:
        self.adapter = adapter
        self.caller = adapter.caller
        self.columns = [
            (index, column, mapping[column]) for index, column in enumerate(header) if column in mapping
        ]
        self.column_of = {f: c for c, f in mapping.items()}
        self.record_fields = set(adapter.record.DESCRIPTOR.fields_by_name)
        # Keys of records a dry run "created" in an earlier chunk (rolled back since).
        self.dry_created: set[Key] = set()
        self._ownerships: dict[tuple[str, str, str], Ownership | None] = {}
        # The current chunk's rows cleaned beforehand (preparing.py), by row number.
        self._prepared: Mapping[int, PreparedRow] = {}

    def parsed(self, rows: list[tuple[int, list[str]]]) -> list[tuple[int, dict[str, str]]]:
        """Each row's number with its values."""
        return [(number, self.values(cells)) for number, cells in rows]

    def values(self, cells: list[str]) -> dict[str, str]:
        """Field -> the row's cell, stripped; an empty cell is no value (an update leaves the field)."""
        found = {}
        for index, _column, name in self.columns:
            if index < len(cells) and (text := cells[index].strip()):
                found[name] = text
        return found

    def apply(
        self,
        session: Session,
        rows: list[tuple[int, list[str]]],
        dry_run: bool,
        prepared: Mapping[int, PreparedRow] | None = None,
    ) -> Chunk:
        """The chunk's rows applied in `session`'s transaction. First without a savepoint per row (they
        cost two statements a row): a refused row has then written nothing, since the service's rules
        refuse before writing. Should a row fail after writing (or the database refuse a statement),
        the attempt is rolled back and the chunk applied again with a savepoint per row. `prepared`:
        rows of the chunk already cleaned (preparing.py); the others are cleaned here."""
        self._prepared = prepared or {}
        try:
            return self._attempts(session, rows, dry_run)
        finally:
            self._prepared = {}

    def _attempts(self, session: Session, rows: list[tuple[int, list[str]]], dry_run: bool) -> Chunk:
        created_before = set(self.dry_created)
        marks = ordering.marks_made(session)
        try:
            with session.begin_nested():
                return self._apply(session, rows, dry_run, fast=True)
        except Redo as redo:
            log.info("import chunk redone with a savepoint per row: %s", redo)
            self.dry_created = created_before
            ordering.forget_marks(session, marks)  # what the fast attempt marked was rolled back
            return self._apply(session, rows, dry_run, fast=False)

    def _apply(
        self, session: Session, rows: list[tuple[int, list[str]]], dry_run: bool, *, fast: bool
    ) -> Chunk:
        chunk = Chunk()
        sessions = Borrowed(session) if fast else Savepoints(session)
        servicer = self.adapter.servicer(
            Runtime("contacts", session.get_bind(), sessions, contacts_store.messaging)  # type: ignore[arg-type]
        )
        parsed = self.parsed(rows)
        self.adapter.begin_chunk()
        known = self._existing(session, parsed)
        # The fast attempt writes the chunk's new records together (batch.py); the redo one by one.
        creates = CreateBatch() if fast and self.adapter.batch else None
        writes = WriteCounter(session.connection())
        try:
            for number, values in parsed:
                if creates is not None and self._queue_create(
                    servicer, session, creates, known, number, values, dry_run, chunk
                ):
                    continue
                written = writes.count
                try:
                    outcome = self._row(servicer, known, values, dry_run)
                except DomainError as error:
                    if fast and (writes.count != written or session.new or session.dirty or session.deleted):
                        raise Redo(f"row {number} was refused after writing") from None
                    self._refuse(chunk, number, values, error)
                    continue
                except (OperationalError, InterfaceError):
                    raise  # the database is away: the chunk is retried, not its rows blamed
                except Exception as error:
                    if fast:
                        raise Redo(f"row {number}: {type(error).__name__}") from None
                    log.exception("import row %d failed unexpectedly", number)
                    chunk.errors.append((number, "", "could not be applied (internal error; it was logged)"))
                    outcome = "failed"
                chunk.counts[outcome] += 1
            if creates is not None:
                self._write_creates(servicer, session, creates, known, dry_run, chunk)
        finally:
            writes.close()
        return chunk

    def _existing(self, session: Session, parsed: list[tuple[int, dict[str, str]]]) -> Known:
        """The records these rows may match (by any of their keys), read once per chunk."""
        wanted: dict[str, set[str]] = {}
        for name in self.adapter.key_fields():
            normalise = self.adapter.normalisers[name]
            wanted[name] = {normalise(values[name]) for _n, values in parsed if name in values} - {""}
        known = Known()
        for record in self.adapter.existing(session, wanted):
            known.remember(record.id, record.etag, record.keys)
        return known

    def _queue_create(
        self,
        servicer: Any,
        session: Session,
        creates: CreateBatch,
        known: Known,
        number: int,
        values: dict[str, str],
        dry_run: bool,
        chunk: Chunk,
    ) -> bool:
        """A row that creates a record joins the chunk's batch, once the service's rules accept it
        (refused: its errors are recorded). False for a row to apply on its own (an update)."""
        prepared = self._prepared.get(number)
        try:
            request, keys = self._request(values, prepared)
            if any(key in creates for key in keys):  # a later row of a record the batch creates
                self._write_creates(servicer, session, creates, known, dry_run, chunk)
            if known.match(keys) is not None or any(key in self.dry_created for key in keys):
                # Every earlier row is written before an update, so its checks see them, as when rows
                # are applied one by one.
                self._write_creates(servicer, session, creates, known, dry_run, chunk)
                return False
            checked = self.adapter.check_create(servicer, session, request, prepared)
        except DomainError as error:
            self._refuse(chunk, number, values, error)
            return True
        except (OperationalError, InterfaceError, Redo):
            raise
        except Exception as error:
            raise Redo(f"row {number}: {type(error).__name__}") from None
        creates.add(PendingCreate(number, values, tuple(keys), checked))
        return True

    def _write_creates(
        self,
        servicer: Any,
        session: Session,
        creates: CreateBatch,
        known: Known,
        dry_run: bool,
        chunk: Chunk,
    ) -> None:
        if not len(creates):
            return
        try:
            written = creates.flush(
                lambda checked: self.adapter.add_checked(servicer, session, checked, self.caller.subject)
            )
        except IntegrityError as error:
            # Another writer took a key since the batch looked (or a constraint the rules do not know):
            # one by one, each row gets its own answer.
            raise Redo(f"a batch of creates was refused by the database: {error.orig}") from None
        except DomainError as error:  # a rule that refuses after writing: which row is for the redo to tell
            raise Redo(f"a batch of creates was refused after writing: {error.message}") from None
        for create, outcome in written:
            if isinstance(outcome, DomainError):
                self._refuse(chunk, create.number, create.values, outcome)
                continue
            known.remember(outcome.row.id, etag_of(outcome.row.id, outcome.version), create.keys)
            if dry_run:
                self.dry_created.update(create.keys)
            chunk.counts["created"] += 1

    def _refuse(self, chunk: Chunk, number: int, values: dict[str, str], error: DomainError) -> None:
        chunk.errors.extend((number, column, text) for column, text in self._explain(error, values))
        chunk.counts["failed"] += 1

    def _ownership(self, request: Message) -> Ownership | None:
        """What a record created from this row would own (the caller's rights checked; DomainError
        when they may not), remembered per asked owner, team and partner account."""
        asked = (request.owner_id, request.team_id, request.partner_account_id)  # type: ignore[attr-defined]
        if asked not in self._ownerships:
            self._ownerships[asked] = ownership_for_create(self.adapter.repository, request)
        return self._ownerships[asked]

    def _book(self, request: Message) -> str:
        try:
            ownership = self._ownership(request)
        except DomainError:  # may not create: still may update a record of their own book
            return _book_of(self.caller.partner_account_id)
        return _book_of(ownership.partner_account_id if ownership is not None else None)

    def _request(
        self, values: dict[str, str], prepared: PreparedRow | None = None
    ) -> tuple[Message, list[Key]]:
        """The row as a create request, and the keys it matches a record by, in order."""
        if prepared is not None:
            problems = prepared.problems
            request = self.adapter.create_request.FromString(prepared.request)
        else:
            request = self.adapter.create_request()
            problems = fieldmap.fill(request, values)
        if problems:
            raise InvalidArgument("cells do not fit their fields", problems)
        book = self._book(request)
        keys = []
        for name in self.adapter.key_fields():
            value = self.adapter.normalisers[name](values.get(name, ""))
            if value:
                keys.append((book, name, value))
        if not keys:
            natural, noun = self.adapter.natural_key, self.adapter.noun
            why = f"it matches the row to a {noun}"
            text = (
                f"is required when the row has no external_id ({why})"
                if EXTERNAL_ID in self.column_of
                else f"is required ({why})"
            )
            raise InvalidArgument(f"no {natural}", {natural: text})
        return request, keys

    def _row(self, servicer: Any, known: Known, values: dict[str, str], dry_run: bool) -> str:
        request, keys = self._request(values)
        match = known.match(keys)
        if match is None and any(key in self.dry_created for key in keys):
            return "updated"  # created by an earlier chunk of this dry run
        if match is None:
            violations = contract_violations(request)
            if violations:
                raise InvalidArgument("the row breaks the contract's field rules", violations)
            record_id, etag = self.adapter.create(servicer, request)
            known.remember(record_id, etag, keys)
            if dry_run:
                self.dry_created.update(keys)
            return "created"
        (_book, key_field, key_value), (record_id, before) = match
        partial = self.adapter.record(id=record_id)
        paths = sorted(name for name in values if name.split(".", 1)[0] in self.record_fields)
        problems = fieldmap.fill(partial, {name: values[name] for name in paths})
        if problems:
            raise InvalidArgument("cells do not fit their fields", problems)
        if self.adapter.unchanged(record_id, partial, paths):
            return "skipped"
        self.adapter.forget(record_id)
        try:
            etag = self.adapter.update(servicer, partial, paths)
        except NotFound:
            # The book's holder of this key is out of the caller's scope: told as a create would be told,
            # naming nobody.
            raise self.adapter.taken[key_field](key_value) from None
        known.remember(record_id, etag, keys)
        return "skipped" if etag == before else "updated"

    def _column_holding(self, field: str) -> str:
        """The column mapped to the nearest field holding `field` (a.b.c: a.b, then a); "" for none."""
        parts = field.split(".")
        for end in range(len(parts) - 1, 0, -1):
            column = self.column_of.get(".".join(parts[:end]))
            if column is not None:
                return column
        return ""

    def _explain(self, error: DomainError, values: dict[str, str]) -> Iterator[tuple[str, str]]:
        """(column, message) for each thing wrong with a row."""
        if isinstance(error, InvalidArgument) and error.fields:
            for name, text in error.fields.items():
                bare = name.removeprefix(f"{self.adapter.noun}.")
                if bare in self.column_of:
                    yield self.column_of[bare], text
                else:  # a part of a column's value (custom_fields.tier): that column, naming the part
                    yield self._column_holding(bare), f"{bare} {text}"
            return
        column = ""
        if isinstance(error, AlreadyExists):
            taken = (
                EXTERNAL_ID if isinstance(error, external_ids.ExternalIdTaken) else self.adapter.natural_key
            )
            column = self.column_of.get(taken, "")
        yield column, error.message
