"""Rules of tasks and appointments: plain Python, no I/O.

A reminder is an offset in minutes before its record's time (a task's due time, an appointment's
start). Offsets rather than ISO 8601 durations: a calendar app's alarms are minutes before the event,
the contract can bound them with a plain integer rule, and no duration parser is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm_platform.errors import InvalidArgument

LINKS = ("contact_id", "deal_id", "lead_id")


def check_links(contact_id: str, deal_id: str, lead_id: str, prefix: str = "") -> None:
    """A task or an appointment is about something: a contact, a deal or a lead (at least one)."""
    if not (contact_id or deal_id or lead_id):
        raise InvalidArgument(
            "a task or an appointment is linked to a contact, a deal or a lead",
            {f"{prefix}contact_id": "give at least one of contact_id, deal_id and lead_id"},
        )


def check_window(start: datetime, end: datetime, prefix: str = "") -> None:
    if end <= start:
        raise InvalidArgument("invalid appointment", {f"{prefix}end_at": "must be after start_at"})


@dataclass(frozen=True)
class Reminder:
    minutes_before: int
    due_at: datetime


def reminders_for(
    at: datetime | None,
    minutes_before: Iterable[int],
    now: datetime,
    already_sent: Iterable[tuple[int, datetime]] = (),
) -> list[Reminder]:
    """The reminders to queue for a record at `at`: one per offset while `at` is still ahead (a reminder
    whose own time has passed is then due at once), none for a record without a time or one already
    past, and none that was already sent for this very time and offset (a reschedule that keeps them)."""
    if at is None or at <= now:
        return []
    sent = set(already_sent)
    due = [Reminder(m, at - timedelta(minutes=m)) for m in sorted(set(minutes_before))]
    return [r for r in due if (r.minutes_before, r.due_at) not in sent]
