"""One user's appointments and open tasks as an iCalendar document (RFC 5545), for a calendar app's
subscription to their feed. Plain rendering, no I/O.

Tasks are written as events at their due time (VEVENT of TASK_MINUTES, category TASK), not as VTODO:
the calendar apps of phones (iOS, Android's Google Calendar) ignore VTODO in subscribed calendars, and a
task that does not show is a follow-up missed. Each reminder offset becomes a VALARM, so the phone
reminds too, from its own copy, even offline.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

PRODID = "-//CRM//Sales activities//EN"
TASK_MINUTES = 15
CONTENT_TYPE = "text/calendar; charset=utf-8"


def _alarms(event: Event, title: str, minutes_before: Iterable[int]) -> None:
    for minutes in minutes_before:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", title)
        alarm.add("trigger", timedelta(minutes=-minutes))
        event.add_component(alarm)


def _event(uid: str, row: Any, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", row.title)
    event.add("last-modified", row.updated_at)
    if row.notes:
        event.add("description", row.notes)
    return event


def render(name: str, appointments: Iterable[Any], tasks: Iterable[Any], now: datetime) -> bytes:
    """The calendar: each appointment (start, end, location, attendees, alarms), then each task at its
    due time. Rows are the store's rows (attribute access by column name)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for row in appointments:
        event = _event(f"appointment-{row.id}@crm", row, now)
        event.add("dtstart", row.start_at)
        event.add("dtend", row.end_at)
        if row.location:
            event.add("location", row.location)
        for attendee in row.attendees or []:
            email = attendee.get("email")
            if not email:
                continue
            address = vCalAddress(f"mailto:{email}")
            if attendee.get("name"):
                address.params["cn"] = vText(attendee["name"])
            event.add("attendee", address, encode=False)
        _alarms(event, row.title, row.reminder_minutes_before or [])
        calendar.add_component(event)
    for row in tasks:
        event = _event(f"task-{row.id}@crm", row, now)
        event.add("dtstart", row.due_at)
        event.add("dtend", row.due_at + timedelta(minutes=TASK_MINUTES))
        event.add("categories", ["TASK"])
        event.add("priority", {"high": 1, "normal": 5, "low": 9}.get(row.priority, 0))
        _alarms(event, row.title, row.reminder_minutes_before or [])
        calendar.add_component(event)
    return calendar.to_ical()
