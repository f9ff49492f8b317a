"""The timeline's table: one row per thing that happened with a contact, newest first by occurred_at.

Rows are written only by `timeline.events` (from domain events); nobody edits them through the API. A
row is never about more than one contact, and it is about one record: it carries that record's resource
type and ownership (owner_id, team_id, partner_account_id: the interaction's, or as its event states
them; none when the event does not say, which only readers of every record of the type see). Reading the
timeline needs to read the contact, and shows only the entries whose record the caller may read
(`visible`), so an entry tells nothing the record itself would not.

Indexes: every read is one contact's entries, newest first, so (contact_id, occurred_at, id) stays the
list's index and the scope is a filter within that one range (a contact's entries are few enough); the
ownership columns get no indexes of their own, as nothing looks entries up by owner, team or partner
account across contacts. Re-pointing a contact's entries walks the same index's contact_id prefix, and
an interaction's entry is found by its ref (ix_timeline_entries_ref).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import ColumnElement, Index, String, Text, and_, or_, true
from sqlalchemy.orm import Mapped, mapped_column

from contacts.store import Base
from contacts.timeline.mapping import CONTACT, RESOURCE_TYPES
from crm_platform.access import CallerContext, OwnershipColumns, scope_clause
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
    # The record the entry is about: its resource type ("contact" for profile entries) and ownership,
    # which decide who sees the entry (`visible`). NULL ownership: as the event left it out.
    resource_type: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        # The list: one contact's entries, newest first (keyset on occurred_at, id).
        Index("ix_timeline_entries_contact_occurred", "contact_id", "occurred_at", "id"),
        # Rules that replace or remove the entry of a record (an interaction updated or deleted).
        Index("ix_timeline_entries_ref", "ref_type", "ref_id"),
        # The belt to the inbox's braces: one event never makes two entries.
        Index("uq_timeline_entries_event", "event_id", "contact_id", unique=True),
    )


OWNERSHIP = OwnershipColumns(TimelineEntry.owner_id, TimelineEntry.team_id, TimelineEntry.partner_account_id)


def visible(caller: CallerContext | None) -> ColumnElement[bool]:
    """The entries `caller` may see of a contact they may read: per entry, the read scope of its own
    record's resource type (crm_platform.access.scope), OR-ed over the types the mapping knows; profile
    entries (type contact) are as visible as the contact. An entry of a type the mapping no longer names
    is seen by nobody. No caller (trusted internal code): every entry."""
    if caller is None:
        return true()
    return visible_by(lambda name: scope_clause(caller, name, "read", OWNERSHIP))


def visible_by(read_scope: Callable[[str], ColumnElement[bool]]) -> ColumnElement[bool]:
    """`visible` with each resource type's read scope over OWNERSHIP given by `read_scope(type)`, e.g.
    with bound parameters (crm_platform.access.scope.MultiScopedStatements, TIMELINE_SCOPES)."""
    return or_(
        *(
            TimelineEntry.resource_type == name
            if name == CONTACT
            else and_(TimelineEntry.resource_type == name, read_scope(name))
            for name in RESOURCE_TYPES
        )
    )


# The read scopes `visible_by` asks for, by resource type, as MultiScopedStatements takes them.
TIMELINE_SCOPES = {name: (name, "read", OWNERSHIP) for name in RESOURCE_TYPES if name != CONTACT}


LIST_SPEC = ListSpec(
    name="timeline_entries",
    fields={
        "kind": Field(TimelineEntry.kind, STRING),
        "source": Field(TimelineEntry.source, STRING),
        "event_type": Field(TimelineEntry.event_type, STRING),
        "ref_type": Field(TimelineEntry.ref_type, STRING),
        "ref_id": Field(TimelineEntry.ref_id, STRING),
        "actor_id": Field(TimelineEntry.actor_id, STRING),
        "resource_type": Field(TimelineEntry.resource_type, STRING),
        "occurred_at": Field(TimelineEntry.occurred_at, TIMESTAMP),
    },
    orderable={"occurred_at"},
    default_order="occurred_at desc",
    tie_breaker=TimelineEntry.id,
)
