"""Interactions' table, its mapping to the contract, and its list allow-list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, Select, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from contacts.store import Base
from crm.contacts.v1 import interactions_pb2
from crm_platform import protojson
from crm_platform.db import UtcDateTime
from crm_platform.listing import ENUM, STRING, TIMESTAMP, Field, ListSpec
from crm_platform.protobuf import timestamp, to_datetime
from crm_platform.resources import Repository, etag_of

KINDS = protojson.enum_names(interactions_pb2.InteractionKind.DESCRIPTOR)
DIRECTIONS = protojson.enum_names(interactions_pb2.InteractionDirection.DESCRIPTOR)
KIND_NUMBERS = protojson.enum_numbers(interactions_pb2.InteractionKind.DESCRIPTOR)
DIRECTION_NUMBERS = protojson.enum_numbers(interactions_pb2.InteractionDirection.DESCRIPTOR)


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(64))
    # The contract's enum names, lower case ("call", "outbound"); NULL for no direction.
    kind: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str | None] = mapped_column(String(16), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(100), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(200), nullable=True)
    deal_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ticket_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Record-level scope (crm_platform.access); partner_account_id is always the contact's.
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        # Lists are per contact, newest first: one ordered range; scope filters within it.
        Index("ix_interactions_contact_occurred", "contact_id", "occurred_at", "id"),
        *(Index(f"ix_interactions_{name}", name) for name in ("owner_id", "team_id", "partner_account_id")),
    )


def to_message(row: Any) -> interactions_pb2.Interaction:
    message = interactions_pb2.Interaction(
        id=row.id,
        contact_id=row.contact_id,
        kind=KIND_NUMBERS.get(row.kind, 0),  # type: ignore[arg-type]
        direction=DIRECTION_NUMBERS.get(row.direction or "", 0),  # type: ignore[arg-type]
        channel=row.channel or "",
        occurred_at=timestamp(row.occurred_at),
        duration_seconds=row.duration_seconds or 0,
        subject=row.subject or "",
        summary=row.summary or "",
        outcome=row.outcome or "",
        deal_id=row.deal_id or "",
        ticket_id=row.ticket_id or "",
        owner_id=row.owner_id or "",
        team_id=row.team_id or "",
        partner_account_id=row.partner_account_id or "",
        actor_id=row.actor_id or "",
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
        etag=etag_of(row.id, row.version),
    )
    if row.archived_at is not None:
        message.archived_at.CopyFrom(timestamp(row.archived_at))
    return message


def to_columns(message: interactions_pb2.Interaction) -> dict[str, Any]:
    """What an update writes (contact_id is fixed once logged, and checked unchanged by the api)."""
    return {
        "kind": KINDS.get(message.kind) or "",
        "direction": DIRECTIONS.get(message.direction),
        "channel": message.channel or None,
        "occurred_at": to_datetime(message.occurred_at),
        "duration_seconds": message.duration_seconds or None,
        "subject": message.subject or None,
        "summary": message.summary or None,
        "outcome": message.outcome or None,
        "deal_id": message.deal_id or None,
        "ticket_id": message.ticket_id or None,
        "owner_id": message.owner_id or None,
        "team_id": message.team_id or None,
        "partner_account_id": message.partner_account_id or None,
    }


interactions = Repository(
    Interaction,
    "interaction",
    to_message=to_message,
    to_columns=to_columns,
    request_field="interaction",
)

_KIND_NAMES = tuple(name for name in KINDS.values() if name)
_DIRECTION_NAMES = tuple(name for name in DIRECTIONS.values() if name)

LIST_SPEC = ListSpec(
    name="interactions",
    fields={
        "kind": Field(Interaction.kind, ENUM, enum_values=_KIND_NAMES),
        "direction": Field(Interaction.direction, ENUM, enum_values=_DIRECTION_NAMES),
        "channel": Field(Interaction.channel, STRING),
        "occurred_at": Field(Interaction.occurred_at, TIMESTAMP),
        "outcome": Field(Interaction.outcome, STRING),
        "deal_id": Field(Interaction.deal_id, STRING),
        "ticket_id": Field(Interaction.ticket_id, STRING),
        "owner_id": Field(Interaction.owner_id, STRING),
        "team_id": Field(Interaction.team_id, STRING),
        "partner_account_id": Field(Interaction.partner_account_id, STRING),
        "created_at": Field(Interaction.created_at, TIMESTAMP),
    },
    orderable={"occurred_at", "created_at", "kind"},
    default_order="occurred_at desc",
    tie_breaker=Interaction.id,
)


def active_interactions(contact_id: str) -> Select[tuple[Interaction]]:
    """Where a contact's interaction list starts: deleted (archived) ones have left it."""
    return select(Interaction).where(Interaction.contact_id == contact_id, Interaction.archived_at.is_(None))
