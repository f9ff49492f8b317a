"""Quotas: the revenue a deal owner is expected to win in a period, in one currency. A standard resource
(crm_platform.resources.Repository: etag, field mask, history, record-level scope as resource type
`quota`), owned by the rep it is for and their team. One live quota per owner and period: a partial
unique index (deleted quotas archived, left out), so a deleted quota can be set anew.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, Select, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from crm.common.v1 import money_pb2
from crm.sales.v1 import reports_pb2
from crm_platform.db import UtcDateTime
from crm_platform.listing import STRING, TIMESTAMP, Field, ListSpec
from crm_platform.protobuf import timestamp
from crm_platform.resources import Repository, etag_of
from sales.store import Base

QUOTA = "quota"


class Quota(Base):
    __tablename__ = "quotas"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        # One live quota per owner and period; also what the KPI report joins on (period, owner).
        Index(
            "ux_quotas_period_owner",
            "period",
            "owner_id",
            unique=True,
            sqlite_where=archived_at.is_(None),
            postgresql_where=archived_at.is_(None),
        ),
        Index("ix_quotas_team_id", "team_id"),
    )


def to_message(row: Any) -> reports_pb2.Quota:
    message = reports_pb2.Quota(
        id=row.id,
        period=row.period,
        amount=money_pb2.Money(amount_minor=row.amount_minor, currency=row.currency),
        owner_id=row.owner_id or "",
        team_id=row.team_id or "",
        notes=row.notes or "",
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
        etag=etag_of(row.id, row.version),
    )
    if row.archived_at is not None:
        message.archived_at.CopyFrom(timestamp(row.archived_at))
    return message


def to_columns(message: reports_pb2.Quota) -> dict[str, Any]:
    """The columns an update writes (the period stays: a quota for another period is another quota)."""
    return {
        "amount_minor": message.amount.amount_minor,
        "currency": message.amount.currency,
        "owner_id": message.owner_id or None,
        "team_id": message.team_id or None,
        "notes": message.notes or None,
    }


quotas = Repository(Quota, QUOTA, to_message=to_message, to_columns=to_columns, request_field="quota")

LIST_SPEC = ListSpec(
    name="quotas",
    fields={
        "period": Field(Quota.period, STRING),
        "owner_id": Field(Quota.owner_id, STRING),
        "team_id": Field(Quota.team_id, STRING),
        "currency": Field(Quota.currency, STRING),
        "created_at": Field(Quota.created_at, TIMESTAMP),
    },
    orderable={"period", "owner_id", "created_at"},
    default_order="period,owner_id",
    tie_breaker=Quota.id,
)


def active_quotas() -> Select[tuple[Quota]]:
    return select(Quota).where(Quota.archived_at.is_(None))
