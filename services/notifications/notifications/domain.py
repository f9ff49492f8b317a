"""The rules for notifications: what the platform says to whom, and when. Plain Python, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crm_platform.access import Ownership
from crm_platform.money_text import format_minor

WELCOME = "welcome"
IN_APP = "in_app"

# The resource type of notifications in the rights matrix (crm_platform.access.rights registers it, in
# the `notifications` domain, with its built-in role levels).
RESOURCE_TYPE = "notification"
OWNERSHIP_FIELDS = ("owner_id", "team_id", "partner_account_id")


@dataclass(frozen=True)
class Message:
    kind: str
    channel: str
    title: str
    body: str


def welcome_message(first_name: str, company: str) -> Message:
    """The greeting a contact gets when they enter the CRM."""
    name = first_name.strip() or "there"
    body = f"Hello {name}, welcome! We are glad to have you"
    body += f" and {company.strip()} with us." if company.strip() else " with us."
    return Message(kind=WELCOME, channel=IN_APP, title=f"Welcome, {name}!", body=body)


BIG_DEAL = "big_deal"


def money_text(amount_minor: int, currency: str) -> str:
    """`1250000, "EUR"` -> "12,500.00 EUR" (the platform's one formatting: crm_platform.money_text)."""
    return format_minor(amount_minor, currency)


def big_deal_message(title: str, amount_minor: int, currency: str) -> Message:
    """What a big deal's owner and their managers are told (sales' `big_deal_detected`)."""
    worth = money_text(amount_minor, currency)
    return Message(
        kind=BIG_DEAL,
        channel=IN_APP,
        title=f"Big deal: {title.strip() or 'untitled'}",
        body=f"{title.strip() or 'A deal'} is worth {worth}.",
    )


REMINDER = "reminder"


def reminder_message(activity_type: str, title: str, at: str) -> Message:
    """What the owner of a task or an appointment is told when one of its reminders is due (sales'
    `reminder_due`); `at` is the task's due time or the appointment's start, as RFC 3339 text."""
    what = title.strip() or "untitled"
    if activity_type == "appointment":
        return Message(
            kind=REMINDER, channel=IN_APP, title=f"Appointment: {what}", body=f"{what} starts at {at}."
        )
    return Message(kind=REMINDER, channel=IN_APP, title=f"Task: {what}", body=f"{what} is due at {at}.")


def ownership_value(value: Any, name: str) -> str | None:
    """One ownership field as an event carries it: a string, with "" and null meaning none. Raises
    ValueError for anything else."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string or null")
    return value


def contact_ownership(payload: Mapping[str, Any]) -> Ownership:
    """A contact's owner, team and partner account as its event states them; a field the event leaves
    out is none (so the notification is only visible to callers who may read every notification: it
    never falls open)."""
    values = {name: ownership_value(payload.get(name), name) for name in OWNERSHIP_FIELDS}
    return Ownership(**values)


def ownership_changes(changes: Any) -> dict[str, str | None]:
    """The ownership fields a `contact_updated` event's `changes` ([{field, old_value, new_value}])
    reassign, with their new values; empty when the update left ownership alone. Raises ValueError for a
    malformed list."""
    if not isinstance(changes, list):
        raise ValueError("changes must be a list")
    out: dict[str, str | None] = {}
    for change in changes:
        if not isinstance(change, Mapping) or not isinstance(change.get("field"), str):
            raise ValueError("each change must be an object with a field name")
        name = change["field"]
        if name in OWNERSHIP_FIELDS:
            out[name] = ownership_value(change.get("new_value"), name)
    return out
