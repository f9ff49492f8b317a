"""Contacts' database: models and queries. The only module that touches the database."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from contacts.domain import NewContact
from crm_platform.db import UtcDateTime, utcnow
from crm_platform.errors import AlreadyExists, NotFound
from crm_platform.events import messaging_tables
from crm_platform.pagination import Page, after_cursor, decode_cursor, page_of


class Base(DeclarativeBase):
    pass


messaging = messaging_tables(Base.metadata)


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Stored normalised (lower case), so the unique index is the case-insensitive uniqueness rule.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


def add_contact(session: Session, new: NewContact) -> Contact:
    if session.scalar(select(Contact.id).where(Contact.email == new.email)) is not None:
        raise AlreadyExists(f"a contact with email {new.email} already exists")
    now = utcnow()
    contact = Contact(
        id=str(uuid.uuid4()),
        first_name=new.first_name,
        last_name=new.last_name,
        email=new.email,
        phone=new.phone,
        company=new.company,
        created_at=now,
        updated_at=now,
    )
    session.add(contact)
    try:
        session.flush()  # the unique index settles a race between two creates of the same email
    except IntegrityError:
        raise AlreadyExists(f"a contact with email {new.email} already exists") from None
    return contact


def get_contact(session: Session, contact_id: str) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    return contact


def list_contacts(session: Session, limit: int, cursor: str) -> Page[Contact]:
    query = select(Contact).order_by(Contact.created_at, Contact.id)
    if cursor:
        query = query.where(after_cursor(Contact.created_at, Contact.id, decode_cursor(cursor)))
    rows = list(session.scalars(query.limit(limit + 1)))
    return page_of(rows, limit, lambda c: (c.created_at, c.id))
