"""The timeline's table: one row per thing that happened with a contact, newest first by occurred_at.

Rows are written only by `timeline.events` (from domain events); nobody edits them through the API. A
row is never about more than one contact, and it carries no ownership of its own: reading the timeline
needs to read the contact (timeline.api), so it is exactly as visible as the contact.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contacts.store import Base
from crm_platform.db import UtcDateTime
from crm_platform.listing import STRING, TIMESTAMP, Field, ListSpec


class TimelineEntry(Base):
    __tablename__ = "timeline_entries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))
    event_type: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    ref_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ref_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # A JSON object: the few payload fields the mapping keeps.
    details: Mapped[str] = mapped_column(Text)
    # The event the row was built from (last refreshed from, for a rule that replaces).
    event_id: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        # The list: one contact's entries, newest first (keyset on occurred_at, id).
        Index("ix_timeline_entries_contact_occurred", "contact_id", "occurred_at", "id"),
        # Rules that replace or remove the entry of a record (an interaction updated or deleted).
        Index("ix_timeline_entries_ref", "ref_type", "ref_id"),
        # The belt to the inbox's braces: one event never makes two entries.
        Index("uq_timeline_entries_event", "event_id", "contact_id", unique=True),
    )


LIST_SPEC = ListSpec(
    name="timeline_entries",
    fields={
        "kind": Field(TimelineEntry.kind, STRING),
        "source": Field(TimelineEntry.source, STRING),
        "event_type": Field(TimelineEntry.event_type, STRING),
        "ref_type": Field(TimelineEntry.ref_type, STRING),
        "ref_id": Field(TimelineEntry.ref_id, STRING),
        "actor_id": Field(TimelineEntry.actor_id, STRING),
        "occurred_at": Field(TimelineEntry.occurred_at, TIMESTAMP),
    },
    orderable={"occurred_at"},
    default_order="occurred_at desc",
    tie_breaker=TimelineEntry.id,
)
