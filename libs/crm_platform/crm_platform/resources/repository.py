"""A resource's standard writes in a few lines: get, create, update (field mask + etag), archive, history.

Generic over a SQLAlchemy declarative model that follows the resource conventions:
    id          single-column primary key (a string)
    version     INTEGER NOT NULL, 1 on create, bumped by every change (crm_platform.resources.etag)
    created_at, updated_at, archived_at   UtcDateTime; archived_at NULL while the resource is active
and two functions the service supplies: `to_message(row)` (the resource as its contract message, etag
included) and `to_columns(message)` (a merged resource message -> the column values it writes).

Each write runs in the caller's session (so the service adds its event to the same transaction), records
its history entry, and returns a `Change` with what the event needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from crm.common.v1 import history_pb2
from crm_platform import protojson
from crm_platform.db import utcnow
from crm_platform.errors import NotFound
from crm_platform.resources.etag import check_etag, compare_and_set, id_attribute
from crm_platform.resources.field_mask import merge_update, writable_fields
from crm_platform.resources.history import Action, FieldChange, jsonable, list_history, record_change

Row = TypeVar("Row")
M = TypeVar("M", bound=Message)

REQUIRED_COLUMNS = ("version", "created_at", "updated_at", "archived_at")


@dataclass(frozen=True)
class Change(Generic[Row]):
    """A committed-with-the-transaction change: the row as it is now, who changed it, which version it
    now has, and each changed field (old -> new, JSON values). No changes: nothing was written."""

    row: Row
    actor_id: str
    version: int
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def changed_fields(self) -> list[str]:
        return [change.field for change in self.changes]


class Repository(Generic[Row, M]):
    def __init__(
        self,
        model: type[Row],
        resource_type: str,
        *,
        to_message: Callable[[Row], M],
        to_columns: Callable[[M], dict[str, Any]],
        request_field: str = "",
    ) -> None:
        """`resource_type` names the resource in errors and history ("contact"); `request_field` is the
        Update request's field holding the resource ("contact"), for naming fields in errors."""
        mapper = inspect(model)
        missing = [name for name in REQUIRED_COLUMNS if name not in mapper.columns]
        if missing or len(mapper.primary_key) != 1:
            raise TypeError(f"{model.__name__} does not follow the resource conventions: missing {missing}")
        self.model = model
        self.resource_type = resource_type
        self.to_message = to_message
        self.to_columns = to_columns
        self.request_field = request_field
        self._id = id_attribute(model)

    # --- reads --------------------------------------------------------------------------------------

    def get(self, session: Session, resource_id: str, *, for_update: bool = False) -> Row:
        """The row (archived ones too), or NOT_FOUND. `for_update` locks it until the transaction ends
        (PostgreSQL; SQLite writers hold the whole database anyway)."""
        query = select(self.model).where(self._id == resource_id).execution_options(populate_existing=True)
        if for_update:
            query = query.with_for_update()
        row = session.scalars(query).one_or_none()
        if row is None:
            raise NotFound(
                f"{self.resource_type} {resource_id} not found",
                resource_type=self.resource_type,
                resource_name=resource_id,
            )
        return row

    def history(
        self, session: Session, resource_id: str, limit: int = 0, cursor: str = ""
    ) -> history_pb2.ListHistoryResponse:
        """The resource's history, newest first; NOT_FOUND for a resource that never existed."""
        self.get(session, resource_id)
        return list_history(session, self.resource_type, resource_id, limit, cursor)

    # --- writes -------------------------------------------------------------------------------------

    def create(self, session: Session, row: Row, actor_id: str) -> Change[Row]:
        """Insert `row` (its id and fields set by the caller; timestamps and version filled in when
        unset) and record "created" with every field that has a value."""
        now = utcnow()
        for name, value in (("version", 1), ("created_at", now), ("updated_at", now)):
            if getattr(row, name) is None:
                setattr(row, name, value)
        session.add(row)
        session.flush()
        message = self.to_message(row)
        encoded = protojson.encode(message)
        changes = [
            FieldChange(name, None, encoded[name])
            for name in writable_fields(message.DESCRIPTOR)
            if encoded[name] not in (None, [], {})
        ]
        record_change(
            session, self.resource_type, self._key(row), Action.CREATED, actor_id, changes, occurred_at=now
        )
        return Change(row, actor_id, row.version, changes)  # type: ignore[attr-defined]

    def update(
        self,
        session: Session,
        resource_id: str,
        partial: M,
        paths: Sequence[str],
        *,
        etag: str,
        actor_id: str,
        prepare: Callable[[M], None] | None = None,
    ) -> Change[Row]:
        """Apply the masked fields of `partial` if `etag` is current (empty: unconditionally); see
        crm_platform.resources.field_mask for the mask rules and `prepare`. An update that changes
        nothing writes nothing (no new version, no history)."""
        # The row lock makes read-merge-write atomic, so an unconditional update never loses a
        # concurrent one's fields; the compare-and-set below would catch a writer that did not lock.
        row = self.get(session, resource_id, for_update=True)
        version: int = row.version  # type: ignore[attr-defined]
        # Content first, precondition second: a request that could never be applied is a 422 whatever
        # its etag, and a client is not sent to re-read a resource only to be refused again.
        merged = merge_update(
            self.to_message(row), partial, paths, request_field=self.request_field, prepare=prepare
        )
        check_etag(resource_id, version, etag)
        if not merged.changes:
            return Change(row, actor_id, version)
        now = utcnow()
        values = {**self.to_columns(merged.message), "updated_at": now}
        version = compare_and_set(session, self.model, resource_id, version, values)
        record_change(
            session,
            self.resource_type,
            resource_id,
            Action.UPDATED,
            actor_id,
            merged.changes,
            occurred_at=now,
        )
        return Change(row, actor_id, version, merged.changes)

    def archive(self, session: Session, resource_id: str, *, etag: str, actor_id: str) -> Change[Row]:
        """Set `archived_at` if `etag` is current (empty: unconditionally) and record "deleted".

        Archiving an archived resource succeeds and changes nothing, whatever the etag: a retried delete
        whose first attempt went through must not fail because that attempt changed the etag."""
        row = self.get(session, resource_id, for_update=True)
        version: int = row.version  # type: ignore[attr-defined]
        if row.archived_at is not None:  # type: ignore[attr-defined]
            return Change(row, actor_id, version)
        check_etag(resource_id, version, etag)
        now = utcnow()
        version = compare_and_set(
            session, self.model, resource_id, version, {"archived_at": now, "updated_at": now}
        )
        changes = [FieldChange("archived_at", None, jsonable(now))]
        record_change(
            session, self.resource_type, resource_id, Action.DELETED, actor_id, changes, occurred_at=now
        )
        return Change(row, actor_id, version, changes)

    def _key(self, row: Row) -> str:
        return str(getattr(row, self._id.key))
