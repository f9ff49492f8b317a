"""The `consent_records` table (append-only: rows are inserted, never updated, except by erasure, which
blanks their free-text source) and its queries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from contacts.store import Base
from crm_platform.db import UtcDateTime, utcnow
from crm_platform.pagination import Page, before_cursor, decode_cursor, page_of


class ConsentRecord(Base):
    __tablename__ = "consent_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(36), ForeignKey("contacts.id"))
    channel: Mapped[str] = mapped_column(String(16))  # consent.domain.CHANNELS
    purpose: Mapped[str] = mapped_column(String(16))  # consent.domain.PURPOSES
    status: Mapped[str] = mapped_column(String(16))  # granted | withdrawn
    source: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[str | None] = mapped_column(String(255), nullable=True)

    __table_args__ = (
        # The history, newest first (keyset on recorded_at, id), and the current state (all of a contact's).
        Index("ix_consent_records_contact_recorded", "contact_id", "recorded_at", "id"),
    )


def add_record(
    session: Session,
    contact_id: str,
    *,
    channel: str,
    purpose: str,
    status: str,
    source: str,
    occurred_at: datetime | None,
    actor_id: str,
) -> ConsentRecord:
    now = utcnow()
    record = ConsentRecord(
        id=str(uuid.uuid4()),
        contact_id=contact_id,
        channel=channel,
        purpose=purpose,
        status=status,
        source=source,
        occurred_at=occurred_at or now,
        recorded_at=now,
        actor_id=actor_id or None,
    )
    session.add(record)
    session.flush()
    return record


def records_of(session: Session, contact_id: str) -> list[ConsentRecord]:
    """Every record of the contact, oldest first."""
    query = (
        select(ConsentRecord)
        .where(ConsentRecord.contact_id == contact_id)
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    )
    return list(session.scalars(query))


def history_page(session: Session, contact_id: str, limit: int, cursor: str) -> Page[Any]:
    """One page of the contact's records, newest first."""
    query = select(ConsentRecord).where(ConsentRecord.contact_id == contact_id)
    if cursor:
        query = query.where(before_cursor(ConsentRecord.recorded_at, ConsentRecord.id, decode_cursor(cursor)))
    query = query.order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc()).limit(limit + 1)
    return page_of(list(session.scalars(query)), limit, lambda r: (r.recorded_at, r.id))
