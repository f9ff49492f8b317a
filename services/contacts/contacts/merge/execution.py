"""Running a merge in one transaction, the same way for people and companies (each a `Kind`).

Order of work, and why:
1. Lock every record involved (survivor and sources) in id order, each read in the caller's scope with
   the update right (out of scope NOT_FOUND, no right PERMISSION_DENIED). One order for every merge means
   two merges of overlapping sets queue instead of deadlocking; on SQLite the write transaction
   (BEGIN IMMEDIATE) already serialises them.
2. Re-check inside the lock: a record already merged (by a merge that committed while this one waited),
   an archived survivor or records of different books are FAILED_PRECONDITION. So of two overlapping
   merges the second either finds every record live and merges them, or refuses and changes nothing:
   never a record moved into a tombstone.
3. Plan the survivor (contacts.merge.plan) from the records as locked.
4. Bury the sources: each becomes an archived tombstone with `merged_into`, its unique values released
   (a contact's emails, a company's domain) so the survivor can take them.
5. Move every record under the sources to the survivor (the Kind's `move_children`).
6. Update the survivor through the resource's own update (the domain's rules, uniqueness, history,
   its `*_updated` event), as an API update would.
7. Tombstones merged earlier into a source now name the survivor, so `merged_into` never names a
   tombstone.
8. Announce: one `*_merged` event on the aggregate of every record whose references move (sources and
   the tombstones of step 7), so each follows that record's earlier events.
A dry run does all of it and rolls back (contacts.merge.api), so it shows exactly what a merge would do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contacts.custom_fields.records import RecordCustomFields
from contacts.custom_fields.store import erase_values
from contacts.merge.plan import Policy, merge_records
from crm_platform.access import CallerContext
from crm_platform.db import utcnow
from crm_platform.errors import FailedPrecondition, InvalidArgument
from crm_platform.resources import Change, Repository
from crm_platform.resources.etag import compare_and_set
from crm_platform.resources.history import Action, FieldChange, record_change


@dataclass(frozen=True)
class Announcement:
    """What a `*_merged` event says, for the record `record_id` (its aggregate)."""

    record_id: str
    version: int
    survivor: Any  # the survivor's row (its ownership)
    merged_ids: list[str]
    actor_id: str
    merged_at: datetime


@dataclass(frozen=True)
class Kind:
    """What differs between merging people and merging companies."""

    repository: Repository[Any, Any]
    policy: Policy
    # Column values a source takes as a tombstone, besides merged_into/archived_at (release its unique
    # values; contacts also drop what is personal, which now lives on the survivor).
    bury: Callable[[Any], dict[str, Any]]
    # Refuses sources that cannot be merged for reasons of the kind (an erased person), in the lock.
    check: Callable[[Session, Sequence[str]], None]
    # Re-points everything under the sources to the survivor (row), in the caller's transaction.
    move_children: Callable[[Session, Any, Sequence[str]], None]
    # Adjusts the planned survivor (e.g. a parent company that is being merged away), before the update.
    adjust: Callable[[Session, Any, Sequence[str]], None]
    # The resource's own update (the store's, repository-style) and the domain's rules it applies.
    update: Callable[..., Change[Any]]
    prepare: Callable[..., None]
    # The resource's custom fields: the update keeps their typed rows, a tombstone has none.
    custom_fields: RecordCustomFields
    record_updated: Callable[[Session, Change[Any]], str]
    record_merged: Callable[[Session, Announcement], str]


@dataclass(frozen=True)
class Outcome:
    survivor: Any  # the survivor's message after the merge
    merged_ids: list[str]


def _lock(session: Session, kind: Kind, ids: Sequence[str], caller: CallerContext | None) -> dict[str, Any]:
    """Every record, locked in id order, each needing the update right in the caller's scope."""
    return {
        record_id: kind.repository.get(session, record_id, for_update=True, caller=caller, action="update")
        for record_id in sorted(ids)
    }


def _check(kind: Kind, rows: Mapping[str, Any], survivor_id: str) -> None:
    name = kind.repository.resource_type
    for record_id, row in sorted(rows.items()):
        if row.merged_into is not None:
            raise FailedPrecondition(f"{name} {record_id} is already merged into another {name}")
    if rows[survivor_id].archived_at is not None:
        raise FailedPrecondition(f"{name} {survivor_id} is archived; restore it before merging into it")
    books = {row.uniqueness_book for row in rows.values()}
    if len(books) > 1:
        raise FailedPrecondition(
            f"the {name} records belong to different books (partner accounts) and cannot be merged"
        )


def merge(
    session: Session,
    kind: Kind,
    survivor_id: str,
    source_ids: Sequence[str],
    choices: Mapping[str, str],
    *,
    actor_id: str,
    caller: CallerContext | None,
) -> Outcome:
    """Merge `source_ids` into `survivor_id` in `session`'s transaction (see the module docstring)."""
    if survivor_id in source_ids:
        raise InvalidArgument("a record cannot be merged into itself", {"source_ids": "names the survivor"})
    sources = list(dict.fromkeys(source_ids))
    rows = _lock(session, kind, [survivor_id, *sources], caller)
    _check(kind, rows, survivor_id)
    kind.check(session, sources)
    to_message = kind.repository.to_message
    before = to_message(rows[survivor_id])
    merged = merge_records(before, [to_message(rows[s]) for s in sources], choices, kind.policy)
    kind.adjust(session, merged, sources)
    paths = changed_fields(merged, before, kind.policy)
    now = utcnow()
    versions = {s: _bury(session, kind, rows[s], survivor_id, actor_id, now) for s in sources}
    kind.move_children(session, rows[survivor_id], sources)
    if paths:
        update = kind.custom_fields.updating(kind.update)
        change = update(
            session,
            survivor_id,
            merged,
            paths,
            etag="",
            actor_id=actor_id,
            prepare=kind.prepare,
            caller=caller,
        )
        if change.changes:
            kind.record_updated(session, change)
    survivor = kind.repository.get(session, survivor_id)
    earlier = _repoint_tombstones(session, kind, sources, survivor_id, now)
    moved = [*sources, *sorted(earlier)]
    for record_id in moved:
        version = versions.get(record_id) or earlier[record_id]
        kind.record_merged(session, Announcement(record_id, version, survivor, moved, actor_id, now))
    return Outcome(to_message(survivor), sources)


def changed_fields(merged: Any, before: Any, policy: Policy) -> list[str]:
    """The fields a merge changes on the survivor (the update's mask)."""
    return [
        d.name
        for d in merged.DESCRIPTOR.fields
        if d.name not in policy.fixed and getattr(merged, d.name) != getattr(before, d.name)
    ]


def _bury(session: Session, kind: Kind, row: Any, survivor_id: str, actor_id: str, now: datetime) -> int:
    """The source becomes a tombstone (its history says into what); returns its new version."""
    values = {**kind.bury(row), "merged_into": survivor_id, "updated_at": now}
    changes = [FieldChange("merged_into", None, survivor_id)]
    if row.archived_at is None:
        values["archived_at"] = now
        changes.append(FieldChange("archived_at", None, now.isoformat()))
    model = kind.repository.model
    version = compare_and_set(session, model, row.id, row.version, values)
    erase_values(session, kind.custom_fields.resource, row.id)  # the survivor's update holds them now
    record_change(
        session, kind.repository.resource_type, row.id, Action.UPDATED, actor_id, changes, occurred_at=now
    )
    return version


def _repoint_tombstones(
    session: Session, kind: Kind, sources: Sequence[str], survivor_id: str, now: datetime
) -> dict[str, int]:
    """Tombstones merged earlier into one of `sources` now name the survivor (a chain A -> B -> C is
    stored as A -> C); returns their ids and new versions."""
    model = kind.repository.model
    found = session.execute(
        select(model.id, model.version).where(model.merged_into.in_(sources))  # type: ignore[attr-defined]
    ).all()
    for record_id, version in found:
        session.execute(
            update(model)
            .where(model.id == record_id)  # type: ignore[attr-defined]
            .values(merged_into=survivor_id, version=version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return {record_id: version + 1 for record_id, version in found}
