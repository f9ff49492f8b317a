"""Events the notifications service consumes, and what it does with them.

Acting on someone's behalf: a handler runs for no caller (there is no request, and the event's actor is
not whom the result is for), so it never decides visibility from who caused the event. The rule every
handler follows: **a notification about a contact belongs where the contact does.** It carries the
contact's owner, team and partner account as the contacts service states them in the event, and is
visible through the same scope as the contact (crm_platform.access.scope, resource type
`notification`): the contact's owner and their team, the partner account's users (only theirs), and
whoever may read every notification; never the event's actor by virtue of having acted (an admin who
creates a partner's customer does not make the welcome theirs), never everyone. What the event does not
state is none (NULL), which only callers reading every notification see, so a missing field fails
closed. When the contact is reassigned (`contact_updated` naming owner_id, team_id or
partner_account_id), its notifications follow in the same transaction as the event's position; the
chassis consumer applies one contact's events in order, so the welcome exists before any reassignment
of that contact is applied.

New contacts arrive two ways: one `contact_created` each, or, from an import, many in one
`contacts_imported` (a batch event: its items carry what `contact_created` does); both give the same
welcome, and the chassis moves each imported contact's position with the batch, so its later events
follow at once.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from crm_platform.events import PoisonEvent
from crm_platform.events.wire import Event, batch_items, header_text, item_event
from crm_platform.merges import MergeFollowers
from crm_platform.service import Subscription
from notifications import domain, store
from notifications.published_events import record_notification_sent

log = logging.getLogger(__name__)


class InvalidPayload(PoisonEvent, ValueError):
    """The event parsed but lacks what this handler needs: no retry can fix it, so it is dead-lettered
    at once with this reason (an operator replays it after fixing the handler or the data)."""


def _contact_id(event: Event) -> str:
    contact_id = event.data.get("contact_id")
    if not isinstance(contact_id, str) or not contact_id:
        raise InvalidPayload(f"{event.type} without contact_id")
    return contact_id


def is_quiet_import(event: Event) -> bool:
    """A contact created by a bulk import gets no welcome unless the import asked for one (`notify`):
    the contacts service marks such events with the `ce-crmorigin: import` and `ce-crmnotify` headers."""
    origin = header_text(event.headers, "ce-crmorigin")
    return origin == "import" and header_text(event.headers, "ce-crmnotify") != "true"


def on_contact_created(session: Session, event: Event) -> None:
    """The welcome notification, owned like the contact (the module's rule); none for an import that did
    not ask for it."""
    contact_id = _contact_id(event)
    if is_quiet_import(event):
        log.info("imported contact: no welcome", extra={"contact_id": contact_id, "event_id": event.id})
        return
    try:
        ownership = domain.contact_ownership(event.data)
    except ValueError as exc:
        raise InvalidPayload(f"contact_created: {exc}") from None
    message = domain.welcome_message(
        str(event.data.get("first_name", "")), str(event.data.get("company", ""))
    )
    notification = store.add_notification(session, contact_id, message, event.id, ownership)
    record_notification_sent(session, notification)
    log.info(
        "welcome notification stored",
        extra={"contact_id": contact_id, "notification_id": notification.id, "event_id": event.id},
    )


def on_contacts_imported(session: Session, event: Event) -> None:
    """An import's new contacts (`contacts_imported`; the consumer hands over only those not applied
    yet): each its welcome exactly as `on_contact_created` gives it, under the item's own id; none for
    an import that did not ask for them."""
    if is_quiet_import(event):
        log.info("imported contacts: no welcome", extra={"event_id": event.id})
        return
    items = batch_items(event)
    if items is None:
        raise InvalidPayload("contacts_imported without its items' aggregate type")
    for item in items:
        on_contact_created(session, item_event(event, item))


def on_contact_updated(session: Session, event: Event) -> None:
    """A reassigned contact's notifications follow it (new owner, team and/or partner account)."""
    contact_id = _contact_id(event)
    try:
        changed = domain.ownership_changes(event.data.get("changes", []))
    except ValueError as exc:
        raise InvalidPayload(f"contact_updated: {exc}") from None
    if not changed:
        return
    count = store.reassign_contact(session, contact_id, changed)
    log.info(
        "notifications re-pointed to the contact's new ownership",
        extra={
            "contact_id": contact_id,
            "fields": sorted(changed),
            "notifications": count,
            "event_id": event.id,
        },
    )


def on_big_deal_detected(session: Session, event: Event) -> None:
    """A big deal (sales' `big_deal_detected`) is told to its owner's managers. Notifications have no
    addressee of their own: visibility is their scope, so the notification is owned like the deal (owner,
    team, partner account, as the event states them), which the deal's owner reads and so does every
    manager of its team (built-in `manager`: notifications of their teams). It is about the deal's
    contact, if it has one (on their timeline through `notification_sent`)."""
    data = event.data
    amount = data.get("amount") or {}
    if not isinstance(data.get("deal_id"), str) or not data["deal_id"] or not isinstance(amount, dict):
        raise InvalidPayload("big_deal_detected without deal_id or amount")
    try:
        ownership = domain.contact_ownership(data)
        minor = int(amount.get("amount_minor") or 0)
    except (ValueError, TypeError) as exc:
        raise InvalidPayload(f"big_deal_detected: {exc}") from None
    message = domain.big_deal_message(str(data.get("title") or ""), minor, str(amount.get("currency") or ""))
    contact_id = data.get("contact_id") if isinstance(data.get("contact_id"), str) else ""
    notification = store.add_notification(session, contact_id or "", message, event.id, ownership)
    record_notification_sent(session, notification)


def on_reminder_due(session: Session, event: Event) -> None:
    """A reminder of a task or an appointment (sales' `reminder_due`, once per reminder) is told to its
    owner: a notification owned like the record (owner, team, partner account, as the event states them),
    which is how its owner reads it (with whoever may read the record's notifications: the managers of
    its team). About the record's contact, if it has one."""
    data = event.data
    if not isinstance(data.get("activity_id"), str) or not data["activity_id"]:
        raise InvalidPayload("reminder_due without activity_id")
    try:
        ownership = domain.contact_ownership(data)
    except ValueError as exc:
        raise InvalidPayload(f"reminder_due: {exc}") from None
    message = domain.reminder_message(
        str(data.get("activity_type") or ""), str(data.get("title") or ""), str(data.get("at") or "")
    )
    contact_id = data.get("contact_id") if isinstance(data.get("contact_id"), str) else ""
    notification = store.add_notification(session, contact_id or "", message, event.id, ownership)
    record_notification_sent(session, notification)


# Merged contacts' notifications are the survivor's (crm_platform.merges: the rule, its order and
# idempotence).
MERGES = MergeFollowers("notifications", contacts=[store.repoint_merged_contacts])

SUBSCRIPTIONS = (
    Subscription("contacts", "contact_created", on_contact_created),
    Subscription("contacts", "contacts_imported", on_contacts_imported),
    Subscription("contacts", "contact_updated", on_contact_updated),
    Subscription("sales", "big_deal_detected", on_big_deal_detected),
    Subscription("sales", "reminder_due", on_reminder_due),
    *MERGES.subscriptions,
)
