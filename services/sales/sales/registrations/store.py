"""Deal registrations' tables, their mapping to the contract, the list allow-list, and the company's
protection.

- `deal_registrations`: a standard resource (crm_platform.resources.Repository: etag, history,
  record-level scope). Changed only by its review methods, never by a field-mask update.
- `deal_registration_protections`: one row per company domain (as the contacts service keeps it),
  naming the partner account an approval protects it for and until when. The row is the truth of who
  holds a company, and its lock is what serialises approvals of one company: whoever approves locks it
  first (`lock_protection`), so two approvals of one company by different partners cannot both pass.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, Select, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm.common.v1 import money_pb2
from crm.sales.v1 import registrations_pb2
from crm_platform import protojson
from crm_platform.db import UtcDateTime
from crm_platform.listing import ENUM, STRING, TIMESTAMP, Field, ListSpec
from crm_platform.protobuf import timestamp
from crm_platform.resources import Repository, etag_of
from sales.store import Base

STATUSES = protojson.enum_names(registrations_pb2.DealRegistrationStatus.DESCRIPTOR)
STATUS_NUMBERS = protojson.enum_numbers(registrations_pb2.DealRegistrationStatus.DESCRIPTOR)
RESOURCE_TYPE = "deal_registration"


class DealRegistration(Base):
    __tablename__ = "deal_registrations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[str] = mapped_column(String(64))
    company_name: Mapped[str] = mapped_column(String(200))
    company_domain: Mapped[str] = mapped_column(String(253))
    contact_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    expected_amount_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    expected_close_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(10))  # the enum's short name: "submitted"...
    decision_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    protected_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    deal_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Registrations are decided, never deleted: always NULL (the repository's conventions want it).
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        # With the list's default order behind each scope column: a scoped first page is an index range.
        *(
            Index(f"ix_deal_registrations_{name}_created_at", name, "created_at", "id")
            for name in ("owner_id", "team_id", "partner_account_id")
        ),
        Index("ix_deal_registrations_created_at", "created_at", "id"),
        # Staff reviewing competing registrations of one company.
        Index("ix_deal_registrations_company_domain", "company_domain", "status"),
        # Merges re-point these.
        Index("ix_deal_registrations_company_id", "company_id"),
        Index("ix_deal_registrations_contact_id", "contact_id"),
    )


class Protection(Base):
    """Who holds a company: the partner account of the latest approval of it, until when."""

    __tablename__ = "deal_registration_protections"

    company_domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    registration_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    protected_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


def to_message(row: Any) -> registrations_pb2.DealRegistration:
    """`row` is an ORM row or a Core row (attribute access by column name)."""
    message = registrations_pb2.DealRegistration(
        id=row.id,
        title=row.title,
        company_id=row.company_id,
        company_name=row.company_name,
        company_domain=row.company_domain,
        contact_id=row.contact_id or "",
        expected_close_date=row.expected_close_date or "",
        notes=row.notes or "",
        status=STATUS_NUMBERS.get(row.status, 0),  # type: ignore[arg-type]
        decision_reason=row.decision_reason or "",
        reviewed_by=row.reviewed_by or "",
        deal_id=row.deal_id or "",
        owner_id=row.owner_id or "",
        team_id=row.team_id or "",
        partner_account_id=row.partner_account_id or "",
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
        etag=etag_of(row.id, row.version),
    )
    if row.currency:
        message.expected_amount.CopyFrom(
            money_pb2.Money(amount_minor=row.expected_amount_minor or 0, currency=row.currency)
        )
    if row.reviewed_at is not None:
        message.reviewed_at.CopyFrom(timestamp(row.reviewed_at))
    if row.protected_until is not None:
        message.protected_until.CopyFrom(timestamp(row.protected_until))
    return message


def _no_columns(message: registrations_pb2.DealRegistration) -> dict[str, Any]:
    # Registrations change only through their review methods, never by a field-mask update.
    raise NotImplementedError("deal registrations are not updated by field mask")


registrations = Repository(
    DealRegistration,
    RESOURCE_TYPE,
    to_message=to_message,
    to_columns=_no_columns,
    request_field="registration",
)

LIST_SPEC = ListSpec(
    name="deal_registrations",
    fields={
        "status": Field(DealRegistration.status, ENUM, enum_values=tuple(n for n in STATUSES.values() if n)),
        "company_id": Field(DealRegistration.company_id, STRING),
        "company_domain": Field(DealRegistration.company_domain, STRING),
        "contact_id": Field(DealRegistration.contact_id, STRING),
        "deal_id": Field(DealRegistration.deal_id, STRING),
        "owner_id": Field(DealRegistration.owner_id, STRING),
        "team_id": Field(DealRegistration.team_id, STRING),
        "partner_account_id": Field(DealRegistration.partner_account_id, STRING),
        "protected_until": Field(DealRegistration.protected_until, TIMESTAMP),
        "created_at": Field(DealRegistration.created_at, TIMESTAMP),
        "updated_at": Field(DealRegistration.updated_at, TIMESTAMP),
    },
    orderable={"created_at", "updated_at", "protected_until"},
    default_order="created_at desc",
    tie_breaker=DealRegistration.id,
)


def listed() -> Select[tuple[DealRegistration]]:
    return select(DealRegistration)


def protection(session: Session, company_domain: str) -> Protection | None:
    """Who holds the company as committed now (no lock: a submission only reads it)."""
    return session.get(Protection, company_domain)


def lock_protection(session: Session, company_domain: str) -> Protection:
    """The company's protection row, made if missing, locked until the transaction ends: every approval
    of one company passes here first, so they run one after the other (PostgreSQL: the row lock;
    SQLite: every writer already holds the database from BEGIN IMMEDIATE)."""
    row = session.get(Protection, company_domain, with_for_update=True, populate_existing=True)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = Protection(company_domain=company_domain)
            session.add(row)
        return row
    except IntegrityError:  # a concurrent first approval made the row: wait for its lock
        row = session.get(Protection, company_domain, with_for_update=True, populate_existing=True)
        assert row is not None
        return row
