"""What quotes, tasks, appointments and deal registrations hold of people, in a person's data export, on
their erasure (crm_platform.personal_data) and on contacts' merges (crm_platform.merges).

They are business records: they name the contact (and a quote its company) by id, which stays on an
erasure (the contact stays as a tombstone) and moves to the survivor on a merge. Their free text (titles,
notes) is the business's, as a deal's is. The one copy of a person's details is an appointment's
attendee list (a name and an email beside the attendee's contact id): an erased contact's attendee entries
lose them, and a merged contact's entries name the survivor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Text, cast, select, update
from sqlalchemy.orm import Session

from crm_platform import protojson
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import utcnow
from crm_platform.merges import Merged, MergeFollowers
from crm_platform.personal_data import Exporter, PersonalData
from crm_platform.resources import Repository
from sales.activities.store import AppointmentRow, TaskRow, appointments, tasks
from sales.merge_references import _repointer as repointer  # the one re-pointer of every sales table
from sales.quotes.store import Quote, quotes
from sales.registrations.store import registrations


def _export(repository: Repository[Any, Any]) -> Exporter:
    """The person's records of `repository` that the caller may read (an export is the caller's view)."""
    model = repository.model

    def export(session: Session, contact_id: str) -> list[dict[str, Any]]:
        query = repository.scoped(
            select(model).where(model.contact_id == contact_id),
            current_caller_or_none(),  # type: ignore[attr-defined]
        )
        rows = session.scalars(query.order_by(model.created_at, model.id))  # type: ignore[attr-defined]
        return [protojson.encode(repository.to_message(row)) for row in rows]

    return export


def _naming(session: Session, contact_ids: tuple[str, ...]) -> Iterator[tuple[AppointmentRow, list[Any]]]:
    """Appointments with an attendee entry of one of `contact_ids`, locked, with their attendee lists.
    JSON is not queried alike on SQLite and PostgreSQL: the text match only narrows the rows read, and
    the entries are matched exactly here."""
    for contact_id in contact_ids:
        query = (
            select(AppointmentRow)
            .where(cast(AppointmentRow.attendees, Text).contains(contact_id, autoescape=True))
            .with_for_update()
        )
        for row in session.scalars(query):
            if any(a.get("contact_id") == contact_id for a in row.attendees or []):
                yield row, list(row.attendees or [])


def _rewrite_attendees(
    session: Session, contact_ids: tuple[str, ...], rewrite: Callable[[dict[str, Any]], dict[str, Any]]
) -> int:
    """Each attendee entry of `contact_ids` rewritten; a new version, so a stale If-Match is refused."""
    changed = 0
    for row, attendees in _naming(session, contact_ids):
        session.execute(
            update(AppointmentRow)
            .where(AppointmentRow.id == row.id)
            .values(
                attendees=[rewrite(a) if a.get("contact_id") in contact_ids else a for a in attendees],
                version=row.version + 1,
                updated_at=utcnow(),
            )
        )
        changed += 1
    return changed


def erase_attendees(session: Session, contact_id: str) -> None:
    _rewrite_attendees(session, (contact_id,), lambda a: {**a, "name": "", "email": ""})


def repoint_attendees(session: Session, merged: Merged) -> int:
    return _rewrite_attendees(session, merged.merged_ids, lambda a: {**a, "contact_id": merged.survivor_id})


def hold_personal_data(personal: PersonalData) -> PersonalData:
    personal.exporters["quotes"] = _export(quotes)
    personal.exporters["tasks"] = _export(tasks)
    personal.exporters["appointments"] = _export(appointments)
    personal.exporters["deal_registrations"] = _export(registrations)
    personal.erasers.append(erase_attendees)
    return personal


def follow_merges(followers: MergeFollowers) -> MergeFollowers:
    followers.contacts += [
        repointer(Quote.contact_id),
        repointer(TaskRow.contact_id),
        repointer(AppointmentRow.contact_id),
        repoint_attendees,
    ]
    followers.companies += [repointer(Quote.company_id)]
    return followers
