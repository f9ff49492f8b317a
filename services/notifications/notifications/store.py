"""Notifications' database: models and queries. The only module that touches the database."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from crm_platform.db import UtcDateTime, utcnow
from crm_platform.events import messaging_tables
from crm_platform.pagination import Page, before_cursor, decode_cursor, page_of
from notifications.domain import Message


class Base(DeclarativeBase):
    pass


messaging = messaging_tables(Base.metadata)


class Notification(Base):
    __tablename__ = "notifications"
    # One notification of a kind per causing event: a second line of defence behind the inbox.
    __table_args__ = (UniqueConstraint("source_event_id", "kind", name="uq_notifications_event_kind"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    source_event_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


def add_notification(
    session: Session, contact_id: str, message: Message, source_event_id: str
) -> Notification:
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
    session.add(notification)
    session.flush()
    return notification


def list_for_contact(session: Session, contact_id: str, limit: int, cursor: str) -> Page[Any]:
    """Newest first, as plain rows (attribute access like the model's, without the ORM's identity map and
    instance set-up: this read is on every customer-360 view, and Core rows cost measurably less CPU)."""
    table = Notification.__table__
    query = (
        select(table)
        .where(table.c.contact_id == contact_id)
        .order_by(table.c.created_at.desc(), table.c.id.desc())
    )
    if cursor:
        query = query.where(before_cursor(table.c.created_at, table.c.id, decode_cursor(cursor)))
    rows = list(session.execute(query.limit(limit + 1)))
    return page_of(rows, limit, lambda n: (n.created_at, n.id))
