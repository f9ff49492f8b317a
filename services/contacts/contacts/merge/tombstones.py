"""Reading a merged record: where it went.

A tombstone's `merged_into` names a live record (a later merge re-points older tombstones), but a reader
follows the chain anyway, a few steps at most, so that an interrupted writer could never send anyone in
circles. A caller who may read the tombstone and its survivor is told where it went (MOVED: REST 308 to the
survivor); a caller who may not read the survivor is told the record is not found, as if it had never
existed for them, so a merge reveals nothing across scopes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from crm_platform.access import CallerContext
from crm_platform.errors import DomainError, Moved, NotFound
from crm_platform.resources import Repository

MAX_CHAIN = 10


def final_id(session: Session | Connection, model: Any, record_id: str, *, lock: bool = False) -> str:
    """The record `record_id` was (finally) merged into; itself when it was not merged or does not
    exist here. `lock`: the record returned is read FOR SHARE (PostgreSQL), so it stays live until the
    transaction ends: a merge of it waits for the caller's write under it (contacts.merge.guard). Only
    that one: a merge re-points the tombstones on the way (their `merged_into`) while it holds the
    records it merges, so locking those too would have the two wait for each other."""
    current = record_id
    for _ in range(MAX_CHAIN):
        query = select(model.merged_into).where(model.id == current)
        into = session.execute(query).scalar()
        if into is None and lock:
            # Merged between the two reads: follow it on.
            into = session.execute(query.with_for_update(read=True)).scalar()
        if into is None:
            return current
        current = into
    return current


def moved(
    connection: Connection,
    repository: Repository[Any, Any],
    row: Any,
    caller: CallerContext | None,
    answer: Callable[[str, str, str], DomainError] = Moved,
) -> DomainError:
    """The error the tombstone `row` answers: `answer(type, id, survivor)` (reads: MOVED to its
    survivor; writes: MergedInto, contacts.merge.guard) when the caller may read the survivor, plain
    NOT_FOUND otherwise."""
    survivor_id = final_id(connection, repository.model, row.merged_into)
    try:
        repository.read(connection, survivor_id, caller=caller)
    except NotFound:
        return NotFound(
            f"{repository.resource_type} {row.id} not found",
            resource_type=repository.resource_type,
            resource_name=row.id,
        )
    return answer(repository.resource_type, row.id, survivor_id)


def read_live(
    connection: Connection, repository: Repository[Any, Any], record_id: str, caller: CallerContext | None
) -> Any:
    """The record's row as `repository.read` gives it, or the error its tombstone answers."""
    row = repository.read(connection, record_id, caller=caller)
    if row.merged_into is not None:
        raise moved(connection, repository, row, caller)
    return row
