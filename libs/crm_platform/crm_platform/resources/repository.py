"""A resource's standard writes in a few lines: get, create, update (field mask + etag), archive, history.

Generic over a SQLAlchemy declarative model that follows the resource conventions:
    id          single-column primary key (a string)
    version     INTEGER NOT NULL, 1 on create, bumped by every change (crm_platform.resources.etag)
    created_at, updated_at, archived_at   UtcDateTime; archived_at NULL while the resource is active
optionally `owner_id`, `team_id` and `partner_account_id` (record-level scope: with them, every read and
write through the repository is narrowed to what the caller may see, crm_platform.access.scope),
and two functions the service supplies: `to_message(row)` (the resource as its contract message, etag
included) and `to_columns(message)` (a merged resource message -> the column values it writes).

Each write runs in the caller's session (so the service adds its event to the same transaction), records
its history entry, and returns a `Change` with what the event needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message
from sqlalchemy import Connection, Select, bindparam, inspect, or_, select
from sqlalchemy.orm import Session

from crm.common.v1 import history_pb2
from crm_platform import protojson
from crm_platform.access import (
    CallerContext,
    OwnershipColumns,
    ScopedStatements,
    assign_ownership,
    in_scope,
    require,
    scope_clause,
)
from crm_platform.access.scope import scope_branches
from crm_platform.bulk import insert_rows
from crm_platform.db import utcnow
from crm_platform.errors import NotFound, PermissionDenied
from crm_platform.listing import CursorCodec, ListRequest, ListSpec, list_page, plan_listing
from crm_platform.pagination import Page
from crm_platform.resources.etag import check_etag, compare_and_set, id_attribute
from crm_platform.resources.field_mask import merge_update, writable_fields
from crm_platform.resources.history import (
    Action,
    FieldChange,
    jsonable,
    list_history,
    record_change,
    record_changes,
)

Row = TypeVar("Row")
M = TypeVar("M", bound=Message)

REQUIRED_COLUMNS = ("version", "created_at", "updated_at", "archived_at")
OWNERSHIP_FIELDS = ("owner_id", "team_id", "partner_account_id")
# Where lists run a scope of several branches as one ordered subquery per branch (Repository.list_page).
BRANCHED_DIALECTS = frozenset({"sqlite"})


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
        created_fields: Callable[[Any], list[FieldChange]] | None = None,
    ) -> None:
        """`resource_type` names the resource in errors and history ("contact"); `request_field` is the
        Update request's field holding the resource ("contact"), for naming fields in errors.
        `created_fields(row)`: a new row's history changes read from its columns, for a service that can
        tell them cheaper than the default (the row's message, encoded: ~40 µs a contact); it must give
        exactly what the default gives."""
        mapper = inspect(model)
        missing = [name for name in REQUIRED_COLUMNS if name not in mapper.columns]
        if missing or len(mapper.primary_key) != 1:
            raise TypeError(f"{model.__name__} does not follow the resource conventions: missing {missing}")
        self.model = model
        self.resource_type = resource_type
        self.to_message = to_message
        self.to_columns = to_columns
        self.request_field = request_field
        self._created_from_columns = created_fields
        self._id = id_attribute(model)
        columns = mapper.columns
        self.ownership = (
            OwnershipColumns(columns["owner_id"], columns["team_id"], columns.get("partner_account_id"))
            if "owner_id" in columns and "team_id" in columns
            else None
        )
        table = model.__table__  # type: ignore[attr-defined]
        key = table.c[self._id.key]
        self._reads = ScopedStatements(
            lambda scope, _variant: select(table).where(key == bindparam("resource_id"), scope),
            resource_type,
            "read",
            self.ownership,
        )

    # --- scope --------------------------------------------------------------------------------------

    def scope(self, action: str = "read") -> tuple[str, str, OwnershipColumns]:
        """This resource's scope for `action`, as crm_platform.access.scope.MultiScopedStatements names
        one (statements that read several resource types, each in its own scope)."""
        if self.ownership is None:
            raise TypeError(f"{self.resource_type} records have no ownership columns to scope by")
        return self.resource_type, action, self.ownership

    def scoped(self, query: Select[Any], caller: CallerContext | None, action: str = "read") -> Select[Any]:
        """`query` narrowed to the rows `caller` may act on (no caller: trusted internal code, no
        narrowing; the server interceptor makes sure every RPC has one)."""
        if caller is None or self.ownership is None:
            return query
        return query.where(scope_clause(caller, self.resource_type, action, self.ownership))

    def list_page(
        self,
        session: Session,
        query: Select[Any],
        spec: ListSpec,
        request: ListRequest,
        codec: CursorCodec,
        *,
        caller: CallerContext | None = None,
    ) -> Page[Any]:
        """One page of `query` (a select of this model) as crm_platform.listing.list_page gives it, narrowed
        to what `caller` may read: the same rows, order and cursors whichever way the query is shaped.

        On SQLite a scope of several branches (crm_platform.access.scope.scope_branches: a `team`
        caller's teams, then their own records) is listed as the page of the rows among the first page
        of each branch: `id IN (first page of branch 1) OR id IN (...)`. SQLite plans the single
        `team_id IN (...) OR owner_id = me` as two index lookups OR-ed and every match sorted (9x an
        unscoped list at 100k rows); each branch's first page is one ordered index range instead.
        PostgreSQL plans the OR itself (the order index with a filter, or a BitmapOr of few rows), and
        the branches only add work there (1.6x against 1.1-1.2x unscoped in bench/bench_scope.py), so
        it keeps the single clause."""
        dialect = session.get_bind().dialect.name
        branches = (
            scope_branches(caller, self.resource_type, "read", self.ownership)
            if caller is not None and self.ownership is not None and dialect in BRANCHED_DIALECTS
            else []
        )
        if len(branches) < 2:
            return list_page(session, self.scoped(query, caller), spec, request, codec)
        plan = plan_listing(spec, request, codec, dialect)
        # The first page of each branch (filtered, after the cursor, ordered, limited: one ordered index
        # range), as ids: every row of the page is among them, since each branch lies inside the scope.
        # What `plan.apply` does, without the sort-key columns. SQLite looks the ids up by primary key
        # and sorts those few rows; `OR` keeps a row that two branches hold (owned and in one of the
        # teams) once. The page is then made exactly as for the single clause.
        ids = query.with_only_columns(self._id).order_by(None).order_by(*plan.order_by).limit(plan.limit + 1)
        for clause in (plan.where, plan.after):
            if clause is not None:
                ids = ids.where(clause)
        firsts = or_(*(self._id.in_(ids.where(branch)) for branch in branches))
        rows = session.execute(plan.apply(query.where(firsts))).all()
        return plan.page(rows, len(query.column_descriptions), codec)

    def check_ownership_change(self, caller: CallerContext | None, row: Row, values: dict[str, Any]) -> None:
        """Reassigning owner, team or partner account needs update rights at a level covering the new
        assignment (crm_platform.access.scope.assign_ownership)."""
        if caller is None or self.ownership is None:
            return
        if all(
            values.get(name, getattr(row, name, None)) == getattr(row, name, None)
            for name in OWNERSHIP_FIELDS
        ):
            return
        assign_ownership(
            caller,
            self.resource_type,
            "update",
            owner_id=values.get("owner_id", getattr(row, "owner_id", None)),
            team_id=values.get("team_id", getattr(row, "team_id", None)),
            partner_account_id=values.get("partner_account_id", getattr(row, "partner_account_id", None)),
        )

    # --- reads --------------------------------------------------------------------------------------

    def get(
        self,
        session: Session,
        resource_id: str,
        *,
        for_update: bool = False,
        caller: CallerContext | None = None,
        action: str = "read",
        for_share: bool = False,
    ) -> Row:
        """The row (archived ones too), or NOT_FOUND, also when `caller` may not see it (which must not
        be told apart from a row that does not exist). For `action` other than read, a visible row the
        caller has no right to change is PERMISSION_DENIED. `for_update` locks it until the transaction
        ends (PostgreSQL; SQLite writers hold the whole database anyway); `for_share` takes the shared
        lock instead (FOR SHARE: writers of the row wait, other sharers do not), for a write under the
        row that must not meet a concurrent change of the row itself."""
        query = select(self.model).where(self._id == resource_id).execution_options(populate_existing=True)
        query = self.scoped(query, caller)
        if for_update:
            query = query.with_for_update()
        elif for_share:
            query = query.with_for_update(read=True)
        row = session.scalars(query).one_or_none()
        if row is None:
            raise self._not_found(resource_id)
        if caller is not None and self.ownership is not None and action != "read":
            require(caller, self.resource_type, action)
            if not in_scope(caller, self.resource_type, action, row):
                raise PermissionDenied(f"you may not {action} this {self.resource_type}")
        return row

    def read(
        self, session: Session | Connection, resource_id: str, *, caller: CallerContext | None = None
    ) -> Any:
        """The row as a plain Core row (attribute access by column name, as `to_message` expects), or
        NOT_FOUND, scoped like `get`. For reads that change nothing: skipping the ORM's identity map and
        instance set-up saves about a fifth of a Get's CPU (bench/PROFILE.md), and the statement is built
        once per scope shape (`ScopedStatements`), not per call."""
        query, values = self._reads.statement(caller)
        connection = session.connection() if isinstance(session, Session) else session
        row = connection.execute(query, {"resource_id": resource_id, **values}).one_or_none()
        if row is None:
            raise self._not_found(resource_id)
        return row

    def history(
        self,
        session: Session,
        resource_id: str,
        limit: int = 0,
        cursor: str = "",
        *,
        caller: CallerContext | None = None,
    ) -> history_pb2.ListHistoryResponse:
        """The resource's history, newest first; NOT_FOUND for a resource that never existed or that the
        caller may not see."""
        self.get(session, resource_id, caller=caller)
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
        changes = self._created_fields(row)
        record_change(
            session, self.resource_type, self._key(row), Action.CREATED, actor_id, changes, occurred_at=now
        )
        return Change(row, actor_id, row.version, changes)  # type: ignore[attr-defined]

    def create_many(
        self, session: Session, values: Sequence[dict[str, Any]], actor_id: str
    ) -> list[Change[Any]]:
        """`create` for many rows in one batched insert (and one for their history): each of `values`
        holds a row's column values, its id included; version and timestamps are filled in. The rows
        are not ORM objects (no identity map, no flush): each Change's `row` reads its columns as
        attributes, which is what `to_message` and event recorders use."""
        if not values:
            return []
        now = utcnow()
        table = self.model.__table__  # type: ignore[attr-defined]
        # Every row with every column (None where not given), in one batched statement.
        columns = tuple(column.key for column in table.columns)
        defaults = dict.fromkeys(columns)
        rows = [{**defaults, "version": 1, "created_at": now, "updated_at": now, **row} for row in values]
        insert_rows(session, table, columns, [tuple(row[name] for name in columns) for row in rows])
        created = [SimpleNamespace(**row) for row in rows]
        changes = [self._created_fields(row) for row in created]
        record_changes(
            session,
            self.resource_type,
            Action.CREATED,
            actor_id,
            [(self._key(row), fields) for row, fields in zip(created, changes, strict=True)],
            occurred_at=now,
        )
        return [Change(row, actor_id, 1, fields) for row, fields in zip(created, changes, strict=True)]

    def _created_fields(self, row: Any) -> list[FieldChange]:
        """A new row's history changes: every writable field that has a value, from nothing."""
        if self._created_from_columns is not None:
            return self._created_from_columns(row)
        return self.created_fields_of_message(row)

    def created_fields_of_message(self, row: Any) -> list[FieldChange]:
        """The default `_created_fields`: the row's message, encoded (what a `created_fields` must equal)."""
        message = self.to_message(row)
        encoded = protojson.encode(message)
        return [
            FieldChange(name, None, encoded[name])
            for name in writable_fields(message.DESCRIPTOR)
            if encoded[name] not in (None, [], {})
        ]

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
        caller: CallerContext | None = None,
    ) -> Change[Row]:
        """Apply the masked fields of `partial` if `etag` is current (empty: unconditionally); see
        crm_platform.resources.field_mask for the mask rules and `prepare`. An update that changes
        nothing writes nothing (no new version, no history)."""
        # The row lock makes read-merge-write atomic, so an unconditional update never loses a
        # concurrent one's fields; the compare-and-set below would catch a writer that did not lock.
        row = self.get(session, resource_id, for_update=True, caller=caller, action="update")
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
        self.check_ownership_change(caller, row, values)
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

    def archive(
        self,
        session: Session,
        resource_id: str,
        *,
        etag: str,
        actor_id: str,
        caller: CallerContext | None = None,
    ) -> Change[Row]:
        """Set `archived_at` if `etag` is current (empty: unconditionally) and record "deleted".

        Archiving an archived resource succeeds and changes nothing, whatever the etag: a retried delete
        whose first attempt went through must not fail because that attempt changed the etag."""
        row = self.get(session, resource_id, for_update=True, caller=caller, action="delete")
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

    def _not_found(self, resource_id: str) -> NotFound:
        return NotFound(
            f"{self.resource_type} {resource_id} not found",
            resource_type=self.resource_type,
            resource_name=resource_id,
        )

    def _key(self, row: Row) -> str:
        return str(getattr(row, self._id.key))
