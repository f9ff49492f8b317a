"""Contacts' database: the model, its mapping to the contract, and the queries. The only module that
touches the database; the standard writes (etag, field mask, history) come from the chassis repository."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from google.rpc import error_details_pb2
from sqlalchemy import Index, Integer, Select, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from contacts.domain import NewContact, normalise_email
from crm.contacts.v1 import contacts_pb2
from crm_platform.access import CallerContext, Ownership, in_scope
from crm_platform.db import UtcDateTime
from crm_platform.errors import AlreadyExists
from crm_platform.events import messaging_tables
from crm_platform.listing import STRING, TIMESTAMP, Field, ListSpec
from crm_platform.protobuf import timestamp
from crm_platform.resources import Change, Repository, etag_of, resource_tables


class Base(DeclarativeBase):
    pass


# The unique index that makes an email unique within its book (see Contact.uniqueness_book).
EMAIL_IN_BOOK = "uq_contacts_book_email"


messaging = messaging_tables(Base.metadata)
resources = resource_tables(Base.metadata)


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Stored normalised (lower case), so the unique index below is the case-insensitive uniqueness rule.
    email: Mapped[str] = mapped_column(String(254), index=True)
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
    # The address book the contact is in, within which emails are unique: its partner account's, or the
    # company's own (""). Never NULL, because NULLs are distinct in a unique index (SQLite and
    # PostgreSQL alike). Derived from partner_account_id by the store on every insert and update.
    uniqueness_book: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        *(
            Index(f"ix_contacts_{name}_created_at", name, "created_at", "id")
            for name in ("owner_id", "team_id", "partner_account_id")
        ),
        # A scoped list filtered by company: scope column and filter in one range, in list order (0006).
        *(
            Index(f"ix_contacts_{name}_company", name, "company", "created_at", "id")
            for name in ("owner_id", "team_id", "partner_account_id")
        ),
        Index(EMAIL_IN_BOOK, "uniqueness_book", "email", unique=True),
    )


def book_of(partner_account_id: str | None) -> str:
    """The uniqueness book of a contact of this partner account (None or "": the company's own)."""
    return partner_account_id or ""


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
        "uniqueness_book": book_of(message.partner_account_id),
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


class EmailTaken(AlreadyExists):
    """Another contact in the same book has this email. The message is the same whoever asks; the
    existing contact is named (ResourceInfo) only to a caller who may read it."""

    def __init__(self, email: str, existing_id: str = "") -> None:
        super().__init__(f"a contact with email {email} already exists")
        self.existing_id = existing_id

    def details(self) -> list[Message]:
        details = super().details()
        if self.existing_id:
            details.append(
                error_details_pb2.ResourceInfo(
                    resource_type=contacts.resource_type,
                    resource_name=self.existing_id,
                    description="the contact that already has this email",
                )
            )
        return details


def _ensure_email_free(
    session: Session, email: str, book: str, caller: CallerContext | None, contact_id: str = ""
) -> None:
    """EmailTaken when another contact of `book` has `email`. Checked first for a clear answer; the
    unique index still settles a race between two writers (then nobody is named)."""
    taken = session.execute(
        select(Contact.id, Contact.owner_id, Contact.team_id, Contact.partner_account_id).where(
            Contact.uniqueness_book == book, Contact.email == email, Contact.id != contact_id
        )
    ).first()
    if taken is None:
        return
    # Uniqueness is enforced over records the caller may not see (a rep's colleague's contact in the
    # company's book): the conflict is told, but who holds the email only to those who may read it.
    readable = caller is None or in_scope(caller, contacts.resource_type, "read", taken)
    raise EmailTaken(email, taken.id if readable else "")


def _is_email_conflict(error: IntegrityError) -> bool:
    """The unique index of emails per book refused the write (and not some other constraint)."""
    text = str(error.orig)
    # PostgreSQL names the index; SQLite names its columns.
    return EMAIL_IN_BOOK in text or "contacts.uniqueness_book, contacts.email" in text


def add_contact(
    session: Session,
    new: NewContact,
    actor_id: str,
    ownership: Ownership | None = None,
    caller: CallerContext | None = None,
) -> Change[Contact]:
    """Insert a contact into the book of its partner account (`ownership`, already checked against the
    caller's rights); EmailTaken when that book has the email."""
    book = book_of(ownership.partner_account_id if ownership is not None else None)
    _ensure_email_free(session, new.email, book, caller)
    contact = Contact(
        id=str(uuid.uuid4()),
        first_name=new.first_name,
        last_name=new.last_name,
        email=new.email,
        phone=new.phone or None,
        company=new.company or None,
        uniqueness_book=book,
    )
    if ownership is not None:
        contact.owner_id = ownership.owner_id
        contact.team_id = ownership.team_id
        contact.partner_account_id = ownership.partner_account_id
    try:
        return contacts.create(session, contact, actor_id)
    except IntegrityError as error:
        if not _is_email_conflict(error):
            raise
        raise EmailTaken(new.email) from None


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
    """The repository's update, plus: a contact whose email or book changes (a new email, or a move to
    another partner account's book or the company's) must have an email free in its target book."""
    target: list[str] = []

    def prepare_and_check(merged: contacts_pb2.Contact) -> None:
        prepare(merged)  # the domain's rules, normalising the email
        target[:] = [merged.email]
        # The repository has loaded (and locked) the row, in the caller's scope, before merging.
        row = session.get(Contact, contact_id)
        book = book_of(merged.partner_account_id)
        if row is None or (row.email, row.uniqueness_book) == (merged.email, book):
            return
        # A move the caller may not make is refused before the target book is consulted, so the
        # answer never depends on what another book holds.
        contacts.check_ownership_change(caller, row, to_columns(merged))
        _ensure_email_free(session, merged.email, book, caller, contact_id)

    try:
        return contacts.update(
            session,
            contact_id,
            partial,
            paths,
            etag=etag,
            actor_id=actor_id,
            prepare=prepare_and_check,
            caller=caller,
        )
    except IntegrityError as error:
        if not _is_email_conflict(error):
            raise
        raise EmailTaken(target[0] if target else normalise_email(partial.email)) from None


def active_contacts() -> Select[tuple[Contact]]:
    """Where lists start: archived contacts have left them (they stay readable by id)."""
    return select(Contact).where(Contact.archived_at.is_(None))
