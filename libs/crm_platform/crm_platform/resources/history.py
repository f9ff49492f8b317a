"""Change history: who changed what of which resource, recorded in the transaction of the change.

`record_change` inserts one entry in the caller's session, so an entry exists exactly when its change was
committed. `list_history` pages through one resource's entries newest first (keyset on the entry id,
which follows commit order within a resource: every change locks its resource row first).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from google.protobuf import json_format, struct_pb2
from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session

from crm.common.v1 import history_pb2
from crm_platform.bulk import insert_rows
from crm_platform.db import utcnow
from crm_platform.errors import InvalidArgument
from crm_platform.pagination import clamp_limit
from crm_platform.protobuf import timestamp
from crm_platform.protojson import format_timestamp
from crm_platform.resources.schema import TABLES

_history = TABLES.history


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


_ACTIONS = {
    Action.CREATED: history_pb2.CHANGE_ACTION_CREATED,
    Action.UPDATED: history_pb2.CHANGE_ACTION_UPDATED,
    Action.DELETED: history_pb2.CHANGE_ACTION_DELETED,
}


class FieldChange(NamedTuple):
    """One field's value before and after a change, as JSON values (None: no value)."""

    field: str
    old: Any
    new: Any


def jsonable(value: Any) -> Any:
    """A value as it is stored and shown: datetimes become RFC 3339 strings, the rest must be JSON."""
    if isinstance(value, datetime):
        stamp = timestamp(value)  # the same RFC 3339 form the REST API and events use
        return format_timestamp(stamp.seconds, stamp.nanos)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def record_change(
    session: Session,
    resource_type: str,
    resource_id: str,
    action: Action | str,
    actor_id: str,
    changes: Iterable[tuple[str, Any, Any]],
    *,
    occurred_at: datetime | None = None,
) -> None:
    """Add a history entry in `session`'s transaction. `changes` are (field, old, new) triples."""
    session.execute(
        insert(_history).values(
            **_entry(resource_type, resource_id, action, actor_id, changes, occurred_at or utcnow())
        )
    )


def record_changes(
    session: Session,
    resource_type: str,
    action: Action | str,
    actor_id: str,
    changes_by_resource: Iterable[tuple[str, Iterable[tuple[str, Any, Any]]]],
    *,
    occurred_at: datetime | None = None,
) -> None:
    """`record_change` for many resources at once (one batched insert): (resource id, changes) pairs,
    entries in that order, all with the same action, actor and time (a batch create)."""
    at = occurred_at or utcnow()
    rows = [
        _entry(resource_type, resource_id, action, actor_id, changes, at)
        for resource_id, changes in changes_by_resource
    ]
    insert_rows(session, _history, _ENTRY_COLUMNS, [tuple(row.values()) for row in rows])


# The columns of an entry, in the order `_entry` gives them.
_ENTRY_COLUMNS = ("resource_type", "resource_id", "action", "actor_id", "occurred_at", "changes")


def _entry(
    resource_type: str,
    resource_id: str,
    action: Action | str,
    actor_id: str,
    changes: Iterable[tuple[str, Any, Any]],
    occurred_at: datetime,
) -> dict[str, Any]:
    rows = [{"field": f, "old": jsonable(old), "new": jsonable(new)} for f, old, new in changes]
    return {
        "resource_type": resource_type,
        "resource_id": resource_id,
        "action": Action(action).value,
        "actor_id": actor_id,
        "occurred_at": occurred_at,
        "changes": json.dumps(rows, separators=(",", ":")),
    }


def _value(json_value: Any) -> struct_pb2.Value:
    return json_format.ParseDict(json_value, struct_pb2.Value())


def to_history_entry(row: Row[Any]) -> history_pb2.HistoryEntry:
    entry = history_pb2.HistoryEntry(
        id=str(row.id),
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        action=_ACTIONS[Action(row.action)],
        actor_id=row.actor_id,
        occurred_at=timestamp(row.occurred_at),
    )
    for change in json.loads(row.changes):
        entry.changes.add(
            field=change["field"], old_value=_value(change["old"]), new_value=_value(change["new"])
        )
    return entry


def field_changes(changes: Sequence[FieldChange]) -> list[history_pb2.FieldChange]:
    """A change's fields as the `changes` of an update event: the same shape as a history entry's, so a
    consumer reads what changed from what to what exactly as the history route shows it."""
    return [
        history_pb2.FieldChange(field=c.field, old_value=_value(c.old), new_value=_value(c.new))
        for c in changes
    ]


def _encode_cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"h": entry_id}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        entry_id = json.loads(base64.urlsafe_b64decode(padded.encode()))["h"]
        if not isinstance(entry_id, int):
            raise TypeError(entry_id)
        return entry_id
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgument("invalid cursor", {"cursor": "is not a cursor this API returned"}) from None


def list_history(
    session: Session, resource_type: str, resource_id: str, limit: int = 0, cursor: str = ""
) -> history_pb2.ListHistoryResponse:
    """One page of a resource's history, newest first; `limit` 0 means the default page size.

    The cursor only says where the previous page ended: it is scoped by the resource anyway, so it is
    not signed (a forged one shows nothing the caller could not page to)."""
    limit = clamp_limit(limit)
    query = select(_history).where(
        _history.c.resource_type == resource_type, _history.c.resource_id == resource_id
    )
    if cursor:
        query = query.where(_history.c.id < _decode_cursor(cursor))
    rows: Sequence[Row[Any]] = session.execute(query.order_by(_history.c.id.desc()).limit(limit + 1)).all()
    page = rows[:limit]
    next_cursor = _encode_cursor(page[-1].id) if len(rows) > limit and page else ""
    return history_pb2.ListHistoryResponse(
        items=[to_history_entry(row) for row in page], next_cursor=next_cursor
    )
