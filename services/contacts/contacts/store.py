"""Contacts' database: the model, its mapping to the contract, and the queries. The only module that
touches the database; the standard writes (etag, field mask, history) come from the chassis repository."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, Select, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from contacts.domain import NewContact, normalise_email
from crm.contacts.v1 import contacts_pb2
from crm_platform.access import CallerContext, Ownership
from crm_platform.db import UtcDateTime
from crm_platform.errors import AlreadyExists
from crm_platform.events import messaging_tables
from crm_platform.listing import STRING, TIMESTAMP, Field, ListSpec
from crm_platform.protobuf import timestamp
from crm_platform.resources import Change, Repository, etag_of, resource_tables


class Base(DeclarativeBase):
    pass


messaging = messaging_tables(Base.metadata)
resources = resource_tables(Base.metadata)


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Stored normalised (lower case), so the unique index is the case-insensitive uniqueness rule.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # NULL when unknown (the contract's empty string), so `filter=phone = null` finds them.
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    company: Mapped[str | None] = mapped_column(String(200), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Record-level scope (crm_platform.access): NULL means none.
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = tuple(
        Index(f"ix_contacts_{name}_created_at", name, "created_at", "id")
        for name in ("owner_id", "team_id", "partner_account_id")
    )


def to_message(contact: Contact) -> contacts_pb2.Contact:
    message = contacts_pb2.Contact(
        id=contact.id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone or "",
        company=contact.company or "",
        created_at=timestamp(contact.created_at),
        updated_at=timestamp(contact.updated_at),
        etag=etag_of(contact.id, contact.version),
        owner_id=contact.owner_id or "",
        team_id=contact.team_id or "",
        partner_account_id=contact.partner_account_id or "",
    )
    if contact.archived_at is not None:
        message.archived_at.CopyFrom(timestamp(contact.archived_at))
    return message


def to_columns(message: contacts_pb2.Contact) -> dict[str, Any]:
    return {
        "first_name": message.first_name,
        "last_name": message.last_name,
        "email": message.email,
        "phone": message.phone or None,
        "company": message.company or None,
        "owner_id": message.owner_id or None,
        "team_id": message.team_id or None,
        "partner_account_id": message.partner_account_id or None,
    }


contacts = Repository(
    Contact, "contact", to_message=to_message, to_columns=to_columns, request_field="contact"
)

LIST_SPEC = ListSpec(
    name="contacts",
    fields={
        "first_name": Field(Contact.first_name, STRING),
        "last_name": Field(Contact.last_name, STRING),
        "email": Field(Contact.email, STRING),
        "phone": Field(Contact.phone, STRING),
        "company": Field(Contact.company, STRING),
        "owner_id": Field(Contact.owner_id, STRING),
        "team_id": Field(Contact.team_id, STRING),
        "partner_account_id": Field(Contact.partner_account_id, STRING),
        "created_at": Field(Contact.created_at, TIMESTAMP),
        "updated_at": Field(Contact.updated_at, TIMESTAMP),
    },
    orderable={"first_name", "last_name", "email", "company", "created_at", "updated_at"},
    default_order="created_at",
    tie_breaker=Contact.id,
)


def _email_taken(email: str) -> AlreadyExists:
    return AlreadyExists(f"a contact with email {email} already exists")


def _ensure_email_free(session: Session, email: str, contact_id: str = "") -> None:
    # Checked first for a clear answer; the unique index still settles a race between two writers.
    taken = session.scalar(select(Contact.id).where(Contact.email == email, Contact.id != contact_id))
    if taken is not None:
        raise _email_taken(email)


def add_contact(
    session: Session, new: NewContact, actor_id: str, ownership: Ownership | None = None
) -> Change[Contact]:
    _ensure_email_free(session, new.email)
    contact = Contact(
        id=str(uuid.uuid4()),
        first_name=new.first_name,
        last_name=new.last_name,
        email=new.email,
        phone=new.phone or None,
        company=new.company or None,
    )
    if ownership is not None:
        contact.owner_id = ownership.owner_id
        contact.team_id = ownership.team_id
        contact.partner_account_id = ownership.partner_account_id
    try:
        return contacts.create(session, contact, actor_id)
    except IntegrityError:
        raise _email_taken(new.email) from None


def update_contact(
    session: Session,
    contact_id: str,
    partial: contacts_pb2.Contact,
    paths: Sequence[str],
    *,
    etag: str,
    actor_id: str,
    prepare: Callable[[contacts_pb2.Contact], None],
    caller: CallerContext | None = None,
) -> Change[Contact]:
    email = normalise_email(partial.email)
    if "email" in paths and email:
        _ensure_email_free(session, email, contact_id)
    try:
        return contacts.update(
            session, contact_id, partial, paths, etag=etag, actor_id=actor_id, prepare=prepare, caller=caller
        )
    except IntegrityError:
        raise _email_taken(email) from None


def active_contacts() -> Select[tuple[Contact]]:
    """Where lists start: archived contacts have left them (they stay readable by id)."""
    return select(Contact).where(Contact.archived_at.is_(None))
