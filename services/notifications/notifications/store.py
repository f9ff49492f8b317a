"""Notifications' database: models and queries. The only module that touches the database.

Every read starts from `visible(caller)`: the notifications table narrowed by the chassis' scope clause
for the `notification` resource type (crm_platform.access.scope) over the notification's own ownership
columns, which hold the contact's owner, team and partner account. What a caller may not see is never
fetched, so a notification out of scope is NOT_FOUND, exactly like one that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Index,
    Select,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from crm_platform.access import CallerContext, Ownership, OwnershipColumns, ScopedStatements, scope_clause
from crm_platform.db import UtcDateTime, utcnow
from crm_platform.errors import NotFound
from crm_platform.events import messaging_tables
from crm_platform.merges import Merged
from crm_platform.pagination import Page, before_cursor, decode_cursor, page_of
from notifications.domain import OWNERSHIP_FIELDS, RESOURCE_TYPE, Message


class Base(DeclarativeBase):
    pass


messaging = messaging_tables(Base.metadata)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # One notification of a kind per causing event: a second line of defence behind the inbox.
        UniqueConstraint("source_event_id", "kind", name="uq_notifications_event_kind"),
        # Each scope column with the list order behind it (migration 0003).
        *(
            Index(f"ix_notifications_{name}_created_at", name, "created_at", "id")
            for name in OWNERSHIP_FIELDS
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    source_event_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Record-level scope (crm_platform.access), the contact's: NULL means none (only `all` sees it).
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


_table = Notification.__table__
OWNERSHIP = OwnershipColumns(_table.c.owner_id, _table.c.team_id, _table.c.partner_account_id)


def add_notification(
    session: Session,
    contact_id: str,
    message: Message,
    source_event_id: str,
    ownership: Ownership | None = None,
) -> Notification:
    """Store a notification about `contact_id`; `ownership` is the contact's (None: none known, so only
    callers who may read every notification see it)."""
    notification = Notification(
        id=str(uuid.uuid4()),
        contact_id=contact_id,
        kind=message.kind,
        channel=message.channel,
        title=message.title,
        body=message.body,
        source_event_id=source_event_id,
        created_at=utcnow(),
    )
    if ownership is not None:
        notification.owner_id = ownership.owner_id
        notification.team_id = ownership.team_id
        notification.partner_account_id = ownership.partner_account_id
    session.add(notification)
    session.flush()
    return notification


def reassign_contact(session: Session, contact_id: str, values: Mapping[str, str | None]) -> int:
    """The contact's notifications follow its new owner, team and/or partner account (`values`: the
    ownership fields that changed, None for "none"); returns how many notifications were re-pointed."""
    changed = {name: values[name] for name in OWNERSHIP_FIELDS if name in values}
    if not changed:
        return 0
    result = session.execute(update(_table).where(_table.c.contact_id == contact_id).values(**changed))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def repoint_merged_contacts(session: Session, merged: Merged) -> int:
    """Notifications addressed to merged contacts are the survivor's now, scoped like it (the event
    carries its ownership); returns how many were re-pointed. Applying it again changes nothing."""
    owner = merged.ownership
    result = session.execute(
        update(_table)
        .where(_table.c.contact_id.in_(merged.merged_ids))
        .values(
            contact_id=merged.survivor_id,
            owner_id=owner.owner_id,
            team_id=owner.team_id,
            partner_account_id=owner.partner_account_id,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- reads: every one starts from `visible` -------------------------------------------------------------


def visible(caller: CallerContext, action: str = "read") -> Select[Any]:
    """The notifications `caller` may see, as plain rows (attribute access like the model's, without the
    ORM's identity map and instance set-up: the list is on every customer-360 view, and Core rows cost
    measurably less CPU)."""
    return select(_table).where(scope_clause(caller, RESOURCE_TYPE, action, OWNERSHIP))


def get_notification(session: Session, caller: CallerContext, notification_id: str) -> Any:
    """The notification, or NOT_FOUND: also when it is out of `caller`'s scope (not to be told apart)."""
    row = session.execute(visible(caller).where(_table.c.id == notification_id)).one_or_none()
    if row is None:
        raise NotFound(
            f"notification {notification_id} not found",
            resource_type=RESOURCE_TYPE,
            resource_name=notification_id,
        )
    return row


def _list_statement(scope: ColumnElement[bool], variant: Hashable) -> Select[Any]:
    """A page of notifications, newest first; `variant` says whether it is one contact's and whether it
    starts after a cursor (`contact_id`, `after_at`/`after_id` and `limit` are bound at execution)."""
    one_contact, after_cursor = variant  # type: ignore[misc]
    query = select(_table).where(scope)
    if one_contact:
        query = query.where(_table.c.contact_id == bindparam("contact_id"))
    if after_cursor:
        query = query.where(
            before_cursor(_table.c.created_at, _table.c.id, (bindparam("after_at"), bindparam("after_id")))
        )
    return query.order_by(_table.c.created_at.desc(), _table.c.id.desc()).limit(bindparam("limit"))


# Built once per scope shape and variant: the list is on every customer-360 view.
_LISTS = ScopedStatements(_list_statement, RESOURCE_TYPE, "read", OWNERSHIP)


def list_notifications(
    connection: Connection, caller: CallerContext, contact_id: str, limit: int, cursor: str
) -> Page[Any]:
    """Newest first, within `caller`'s scope; one contact's when `contact_id` is given. A cursor only
    positions the next page: the page itself is scoped again, so another caller's cursor shows nothing
    more than that caller's own scope."""
    query, values = _LISTS.statement(caller, (bool(contact_id), bool(cursor)))
    values["limit"] = limit + 1
    if contact_id:
        values["contact_id"] = contact_id
    if cursor:
        values["after_at"], values["after_id"] = decode_cursor(cursor)
    rows = list(connection.execute(query, values))
    return page_of(rows, limit, lambda n: (n.created_at, n.id))
