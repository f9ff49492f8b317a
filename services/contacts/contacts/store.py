"""Contacts' database: the model, its mapping to the contract, and the queries. The only module that
touches the database; the standard writes (etag, field mask, history) come from the chassis repository.

The profile (contacts.people): single values are columns of `contacts` (the segmentation ones indexed
for filters); the lists (emails, phones, addresses, social profiles, important dates, hobbies, interests,
memberships, tags) are JSON columns holding each entry in its contract JSON form, so a contact is still
one row to read and one compare-and-set to write. Every email of a contact is also a row of
`contact_emails`, whose unique index over (uniqueness_book, email) makes each address unique within its
book, whichever contact of the book has it and whether or not it is that contact's primary."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any, NamedTuple

from google.protobuf import json_format, struct_pb2
from sqlalchemy import JSON, ForeignKey, Index, Integer, Select, String, Text, delete, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from contacts import external_ids
from contacts.domain import NewContact, normalise_email
from contacts.merge.guard import refuse_merged
from contacts.people.domain import Written
from contacts.search.index import SearchIndex
from crm.contacts.v1 import contacts_pb2
from crm_platform import protojson
from crm_platform.access import CallerContext, Ownership, in_scope
from crm_platform.bulk import insert_rows
from crm_platform.db import UtcDateTime
from crm_platform.errors import AlreadyExists
from crm_platform.events import messaging_tables
from crm_platform.listing import ENUM, STRING, TIMESTAMP, Field, ListSpec, years_since
from crm_platform.protobuf import timestamp
from crm_platform.resources import Change, FieldChange, Repository, etag_of, resource_tables
from crm_platform.resources.field_mask import writable_fields


class Base(DeclarativeBase):
    pass


# The unique index that makes an email unique within its book (see Contact.uniqueness_book).
EMAIL_IN_BOOK = "uq_contacts_book_email"
# The same for every email of a contact, not only the primary one (see ContactEmailRow).
ANY_EMAIL_IN_BOOK = "uq_contact_emails_book_email"
# Not unique (a duplicate phone may be allowed), but how a create finds a contact with its number.
PHONE_IN_BOOK = "ix_contacts_book_phone"

# The profile's lists, each a JSON column of the same name: entries in their contract JSON form.
LIST_FIELDS = (
    "emails",
    "phones",
    "addresses",
    "social_profiles",
    "important_dates",
    "hobbies",
    "interests",
    "memberships",
    "tags",
)
# The profile's single values, each a column of the same name (NULL when empty).
TEXT_FIELDS = (
    "job_title",
    "preferred_contact_time",
    "language",
    "time_zone",
    "lead_source",
    "industry",
    "occupation",
    "birth_date",
    "region",
    "country",
    "city",
    "notes",
)
CHANNELS = tuple(
    name for name in protojson.enum_names(contacts_pb2.ContactChannel.DESCRIPTOR).values() if name is not None
)


messaging = messaging_tables(Base.metadata)
resources = resource_tables(Base.metadata)
# The terms each contact is found by (contacts.search), written in the transaction of each change.
search_index = SearchIndex(Base.metadata)


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
    # --- the profile (contacts.people); see the module docstring -----------------------------------------
    job_title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The channel's JSON name ("in_person"), NULL when not given: filters compare the names clients send.
    preferred_channel: Mapped[str | None] = mapped_column(String(20), nullable=True)
    preferred_contact_time: Mapped[str | None] = mapped_column(String(200), nullable=True)
    language: Mapped[str | None] = mapped_column(String(35), nullable=True)
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lead_source: Mapped[str | None] = mapped_column(String(100), nullable=True)
    industry: Mapped[str | None] = mapped_column(String(100), nullable=True)
    occupation: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # "YYYY-MM-DD": ISO dates order as text, so filters compare them as strings.
    birth_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    region: Mapped[str | None] = mapped_column(String(100), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    emails: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    phones: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    addresses: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    social_profiles: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    important_dates: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    hobbies: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    interests: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    memberships: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    tags: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    # Custom field values by name, as checked by contacts.custom_fields (which also keeps them as typed
    # rows of custom_field_values for filters and orders), 0010.
    custom_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    # Set on a contact merged into another (contacts.merge): the survivor, never itself merged. Such a
    # contact is an archived tombstone; reading it answers MOVED (contacts.merge.tombstones).
    merged_into: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    # The contact's id in another system, NULL when none (contacts.external_ids: unique per book), 0011.
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True)

    __table_args__ = (
        *external_ids.indexes("contacts"),
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
        # Segmentation filters (0009), each followed by the default list order (0010_list_order_indexes):
        # a filtered page is then one index range read in order, not every match sorted.
        Index("ix_contacts_country_created_at", "country", "created_at", "id"),
        Index("ix_contacts_country_city", "country", "city", "created_at", "id"),
        Index("ix_contacts_industry", "industry", "created_at", "id"),
        Index("ix_contacts_lead_source", "lead_source", "created_at", "id"),
        Index("ix_contacts_birth_date", "birth_date"),  # the `age` filter (0010)
        # The `tags:"x"` filter on PostgreSQL (jsonb containment, 0010); SQLite reads tags with json_each.
        Index("ix_contacts_tags", text("(tags::jsonb)"), postgresql_using="gin").ddl_if(dialect="postgresql"),
        # Who has this primary phone in the book: the duplicate check on create (PhoneTaken), 0010.
        Index(PHONE_IN_BOOK, "uniqueness_book", "phone"),
    )


class ContactEmailRow(Base):
    """One email address of a contact (its primary one included), in the contact's book: the unique
    index makes every address unique within a book. Kept in step with Contact.emails by the store."""

    __tablename__ = "contact_emails"

    contact_id: Mapped[str] = mapped_column(String(36), ForeignKey("contacts.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    uniqueness_book: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index(ANY_EMAIL_IN_BOOK, "uniqueness_book", "email", unique=True),)


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
        external_id=contact.external_id or "",
        preferred_channel=protojson.enum_numbers(contacts_pb2.ContactChannel.DESCRIPTOR).get(
            contact.preferred_channel or "", 0
        ),
    )
    if contact.archived_at is not None:
        message.archived_at.CopyFrom(timestamp(contact.archived_at))
    for name in TEXT_FIELDS:
        setattr(message, name, getattr(contact, name) or "")
    for name in LIST_FIELDS:
        entries = getattr(contact, name)
        if entries:
            _load_list(message, name, entries)
    if contact.custom_fields:
        message.custom_fields.update(contact.custom_fields)
    if not message.emails and contact.email:  # a row written before the profile: its one email
        message.emails.add(address=contact.email, primary=True)
    return message


def _list_loaders() -> dict[str, Callable[[Any], Any]]:
    """Per list field, entry (its stored JSON form) -> what the repeated field takes: the entry itself for
    strings, the sub-message's keyword arguments (enum names as numbers, nulls left out) for messages.
    By hand rather than protojson.decode_into, which costs ~45 µs an entry on every read."""
    loaders: dict[str, Callable[[Any], Any]] = {}
    for name in LIST_FIELDS:
        field = contacts_pb2.Contact.DESCRIPTOR.fields_by_name[name]
        if field.message_type is None:
            loaders[name] = str
            continue
        enums = {
            sub.name: protojson.enum_numbers(sub.enum_type)
            for sub in field.message_type.fields
            if sub.enum_type is not None
        }

        def load(entry: dict[str, Any], enums: dict[str, dict[str, int]] = enums) -> dict[str, Any]:
            return {
                key: (enums[key].get(value, 0) if key in enums else value)
                for key, value in entry.items()
                if value is not None
            }

        loaders[name] = load
    return loaders


_LOADERS = _list_loaders()


def _load_list(message: contacts_pb2.Contact, name: str, entries: list[Any]) -> None:
    repeated, load = getattr(message, name), _LOADERS[name]
    if load is str:
        repeated.extend(entries)
    else:
        for entry in entries:
            repeated.add(**load(entry))


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
        **profile_columns(message),
    }


# The channel's JSON name by number (None for the unspecified one), as the column keeps it.
_CHANNEL_NAMES = protojson.enum_names(contacts_pb2.ContactChannel.DESCRIPTOR)
# Lists of strings, stored as they are; the other lists hold messages, each stored in its JSON form.
_STRING_LISTS = frozenset(
    name for name in LIST_FIELDS if contacts_pb2.Contact.DESCRIPTOR.fields_by_name[name].message_type is None
)


def profile_columns(message: Any) -> dict[str, Any]:
    """The profile's column values of a Contact or a CreateContactRequest (cleaned by contacts.people):
    each list in its contract JSON form (what protojson.encode gives it), NULL when empty. Only the
    lists that have entries are encoded: most contacts have one email and a phone, and encoding every
    field of the message cost about a tenth of an imported row."""
    columns: dict[str, Any] = {name: (getattr(message, name) or None) for name in TEXT_FIELDS}
    columns["preferred_channel"] = _CHANNEL_NAMES.get(message.preferred_channel)
    for name in LIST_FIELDS:
        entries = getattr(message, name)
        if not entries:
            columns[name] = None
        elif name in _STRING_LISTS:
            columns[name] = list(entries)
        else:
            columns[name] = [protojson.encode(entry) for entry in entries]
    columns["custom_fields"] = (
        json_format.MessageToDict(message.custom_fields) if message.custom_fields.fields else None
    )
    columns["external_id"] = external_ids.clean(message.external_id) or None
    return columns


# A new contact's history: each writable field with a value. Plain values read straight from their
# column; lists as to_message loads them from their stored JSON form, each entry encoded on its own.
_PLAIN_FIELDS = frozenset(
    (
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "owner_id",
        "team_id",
        "partner_account_id",
        "external_id",
        *TEXT_FIELDS,
    )
)
_CHANNEL_NUMBERS = protojson.enum_numbers(contacts_pb2.ContactChannel.DESCRIPTOR)
_ENTRY_TYPES = {
    name: type(getattr(contacts_pb2.Contact(), name).add())
    for name in LIST_FIELDS
    if name not in _STRING_LISTS
}


def created_fields(contact: Any) -> list[FieldChange]:
    """The history changes of a new contact (a row with the `contacts` columns as attributes): exactly
    what encoding its message gives (Repository.created_fields_of_message; test_created_history.py
    holds them equal), without building and encoding the whole message: ~40 us of each imported row."""
    changes = []
    for name in writable_fields(contacts_pb2.Contact.DESCRIPTOR):
        value = getattr(contact, name)
        if name in _PLAIN_FIELDS:
            if value:
                changes.append(FieldChange(name, None, value))
        elif name == "preferred_channel":
            if value in _CHANNEL_NUMBERS:  # by its number's JSON name, as encoding the message names it
                changes.append(FieldChange(name, None, _CHANNEL_NAMES[_CHANNEL_NUMBERS[value]]))
        elif name == "custom_fields":
            if value:  # through a Struct, as to_message reads it (its numbers are doubles)
                struct = struct_pb2.Struct()
                struct.update(value)
                changes.append(FieldChange(name, None, json_format.MessageToDict(struct)))
        elif name in _STRING_LISTS:
            if value:
                changes.append(FieldChange(name, None, list(value)))
        elif value:
            entry_type, load = _ENTRY_TYPES[name], _LOADERS[name]
            encoded = [protojson.encode(entry_type(**load(entry))) for entry in value]
            changes.append(FieldChange(name, None, encoded))
        elif name == "emails" and contact.email:  # to_message's one email of a contact without the list
            only = contacts_pb2.ContactEmail(address=contact.email, primary=True)
            changes.append(FieldChange(name, None, [protojson.encode(only)]))
    return changes


contacts = Repository(
    Contact,
    "contact",
    to_message=to_message,
    to_columns=to_columns,
    request_field="contact",
    created_fields=created_fields,
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
        "external_id": Field(Contact.external_id, STRING),
        # Segmentation (the profile). `tags:"vip"`: the list holds "vip"; `age`: whole years since
        # birth_date, compared as a birth_date range (its index, 0010).
        "tags": Field(Contact.tags, STRING, repeated=True),
        "age": years_since(Contact.birth_date),
        "country": Field(Contact.country, STRING),
        "region": Field(Contact.region, STRING),
        "city": Field(Contact.city, STRING),
        "industry": Field(Contact.industry, STRING),
        "occupation": Field(Contact.occupation, STRING),
        "lead_source": Field(Contact.lead_source, STRING),
        "language": Field(Contact.language, STRING),
        "time_zone": Field(Contact.time_zone, STRING),
        "job_title": Field(Contact.job_title, STRING),
        "preferred_channel": Field(Contact.preferred_channel, ENUM, enum_values=CHANNELS),
        "birth_date": Field(Contact.birth_date, STRING),
    },
    orderable={"first_name", "last_name", "email", "company", "country", "city", "created_at", "updated_at"},
    default_order="created_at",
    tie_breaker=Contact.id,
)


class EmailTaken(AlreadyExists):
    """Another contact in the same book has this email. The message is the same whoever asks; the
    existing contact is named (ResourceInfo) only to a caller who may read it."""

    def __init__(self, email: str, existing_id: str = "") -> None:
        super().__init__(
            f"a contact with email {email} already exists",
            resource_type=contacts.resource_type,
            existing_id=existing_id,
            description="the contact that already has this email",
        )


def _ensure_email_free(
    session: Session,
    emails: str | Sequence[str],
    book: str,
    caller: CallerContext | None,
    contact_id: str = "",
) -> None:
    """EmailTaken when another contact of `book` has `emails` (one address or several), as its primary
    email or another. Checked first for a clear answer; the unique indexes still settle a race between two
    writers (then nobody is named)."""
    wanted = [emails] if isinstance(emails, str) else list(emails)
    if not wanted:
        return
    taken = session.execute(
        select(
            Contact.id, Contact.owner_id, Contact.team_id, Contact.partner_account_id, ContactEmailRow.email
        )
        .join(ContactEmailRow, ContactEmailRow.contact_id == Contact.id)
        .where(
            ContactEmailRow.uniqueness_book == book,
            ContactEmailRow.email.in_(wanted),
            ContactEmailRow.contact_id != contact_id,
        )
        .order_by(ContactEmailRow.email)
        .limit(1)
    ).first()
    if taken is None:
        return
    # Uniqueness is enforced over records the caller may not see (a rep's colleague's contact in the
    # company's book): the conflict is told, but who holds the email only to those who may read it.
    readable = caller is None or in_scope(caller, contacts.resource_type, "read", taken)
    raise EmailTaken(taken.email, taken.id if readable else "")


class PhoneTaken(AlreadyExists):
    """Another contact of the same book has this phone number as its primary (E.164), and the create
    did not say `allow_duplicate`. Named like EmailTaken: only to a caller who may read the holder."""

    def __init__(self, number: str, existing_id: str = "") -> None:
        super().__init__(
            f"a contact with phone {number} already exists",
            resource_type=contacts.resource_type,
            existing_id=existing_id,
            description="the contact that already has this phone number",
        )


def _ensure_phone_free(
    session: Session, numbers: Sequence[str], book: str, caller: CallerContext | None
) -> None:
    """PhoneTaken when a live contact of `book` has one of `numbers` (E.164) as its primary phone. Only
    primary numbers are indexed (PHONE_IN_BOOK), so a number another contact holds only as a secondary
    one is not found here (contacts.merge.duplicates compares every number of the candidates it finds)."""
    wanted = sorted({number for number in numbers if number})
    if not wanted:
        return
    taken = session.execute(
        select(Contact.id, Contact.owner_id, Contact.team_id, Contact.partner_account_id, Contact.phone)
        .where(Contact.uniqueness_book == book, Contact.phone.in_(wanted), Contact.merged_into.is_(None))
        .order_by(Contact.phone, Contact.id)
        .limit(1)
    ).first()
    if taken is None:
        return
    readable = caller is None or in_scope(caller, contacts.resource_type, "read", taken)
    raise PhoneTaken(taken.phone, taken.id if readable else "")


def external_id_taken(external_id: str, existing_id: str = "") -> external_ids.ExternalIdTaken:
    """Another live contact of the same book has this external id (contacts.external_ids)."""
    return external_ids.ExternalIdTaken(contacts.resource_type, external_id, existing_id)


def _unique_conflict(error: IntegrityError, email: str, external_id: str) -> AlreadyExists | None:
    """The refusal a unique index's IntegrityError stands for, naming nobody; None for another
    constraint."""
    if _is_email_conflict(error):
        return EmailTaken(email)
    if external_ids.is_conflict(error, "contacts"):
        return external_id_taken(external_id)
    return None


def _is_email_conflict(error: IntegrityError) -> bool:
    """A unique index of emails per book refused the write (and not some other constraint)."""
    text = str(error.orig)
    # PostgreSQL names the index; SQLite names its columns.
    return (
        EMAIL_IN_BOOK in text
        or ANY_EMAIL_IN_BOOK in text
        or "contacts.uniqueness_book, contacts.email" in text
        or "contact_emails.uniqueness_book, contact_emails.email" in text
    )


def email_addresses(message: Any) -> list[str]:
    """Every email of a (cleaned) Contact or CreateContactRequest: the list's, and `email`."""
    addresses = [entry.address for entry in message.emails]
    return addresses if message.email in addresses else [message.email, *addresses]


def _store_emails(session: Session, contact_id: str, book: str, emails: Sequence[str]) -> None:
    """Make `contact_emails` hold exactly `emails` for the contact, in `book`."""
    session.execute(delete(ContactEmailRow).where(ContactEmailRow.contact_id == contact_id))
    rows = [
        {"contact_id": contact_id, "email": email, "uniqueness_book": book} for email in dict.fromkeys(emails)
    ]
    if rows:
        session.execute(insert(ContactEmailRow.__table__), rows)


def add_contact(
    session: Session,
    new: NewContact,
    actor_id: str,
    ownership: Ownership | None = None,
    caller: CallerContext | None = None,
    profile: Any = None,
) -> Change[Contact]:
    """Insert a contact into the book of its partner account (`ownership`, already checked against the
    caller's rights); EmailTaken when that book has any of its emails. `profile`: the cleaned create
    request (contacts.people), whose profile fields the contact takes."""
    book = book_of(ownership.partner_account_id if ownership is not None else None)
    emails = email_addresses(profile) if profile is not None else [new.email]
    _ensure_email_free(session, emails, book, caller)
    if profile is not None and not getattr(profile, "allow_duplicate", False):
        _ensure_phone_free(
            session, [entry.number for entry in profile.phones] or [profile.phone], book, caller
        )
    external_id = external_ids.clean(profile.external_id) if profile is not None else ""
    external_ids.ensure_free(session, contacts, external_id, book, caller)
    contact = Contact(**_new_contact_columns(new, ownership, profile, book))
    try:
        change = contacts.create(session, contact, actor_id)
        _store_emails(session, contact.id, book, emails)
        search_index.index_contacts(session, [contact], new=True)
        return change
    except IntegrityError as error:
        refusal = _unique_conflict(error, new.email, external_id)
        if refusal is None:
            raise
        raise refusal from None


def _new_contact_columns(
    new: NewContact, ownership: Ownership | None, profile: Any, book: str
) -> dict[str, Any]:
    """The column values of a new contact (a fresh id): `new`'s, the cleaned profile's, its ownership."""
    columns: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "first_name": new.first_name,
        "last_name": new.last_name,
        "email": new.email,
        "phone": new.phone or None,
        "company": new.company or None,
        "uniqueness_book": book,
        **(profile_columns(profile) if profile is not None else {}),
    }
    if profile is not None:
        columns["phone"] = profile.phone or None  # in E.164, the primary of the cleaned phones
    if ownership is not None:
        columns.update(
            owner_id=ownership.owner_id,
            team_id=ownership.team_id,
            partner_account_id=ownership.partner_account_id,
        )
    return columns


class NewContactEntry(NamedTuple):
    """One contact of `add_contacts`: what `add_contact` takes."""

    new: NewContact
    ownership: Ownership | None
    profile: Any  # the cleaned CreateContactRequest (contacts.api.clean_create_request)


def add_contacts(
    session: Session, entries: Sequence[NewContactEntry], actor_id: str, caller: CallerContext | None
) -> list[Change[Any] | AlreadyExists]:
    """`add_contact` for many contacts at once (imports): per entry, in order, its Change or the refusal
    that adding them one after the other would have given (EmailTaken, PhoneTaken: held in its book
    before, or by an earlier entry). One query each finds who holds the emails and the phones; contacts,
    their emails, history and search terms are each written by one batched insert. A writer that took
    an email since makes the batch fail on the unique index (IntegrityError, the whole batch): the
    caller then adds the entries one by one."""
    planned = [
        (book_of(e.ownership.partner_account_id if e.ownership is not None else None), e) for e in entries
    ]
    books = {book for book, _e in planned}
    addresses = [email_addresses(e.profile) for _book, e in planned]
    numbers = [_numbers_checked(e.profile) for _book, e in planned]
    ids = [[v] if (v := external_ids.clean(e.profile.external_id)) else [] for _b, e in planned]
    emails_held = _email_holders(session, books, {a for found in addresses for a in found})
    phones_held = _phone_holders(session, books, {n for found in numbers for n in found})
    ids_held = external_ids.holders(session, contacts, books, {i for found in ids for i in found})
    outcomes: list[int | AlreadyExists] = []
    accepted: list[dict[str, Any]] = []
    email_rows: list[tuple[str, str, str]] = []
    for (book, entry), emails, phones, external in zip(planned, addresses, numbers, ids, strict=True):
        refusal = _taken(emails_held, phones_held, ids_held, book, (emails, phones, external), caller)
        if refusal is not None:
            outcomes.append(refusal)
            continue
        columns = _new_contact_columns(entry.new, entry.ownership, entry.profile, book)
        holder = SimpleNamespace(**{name: columns.get(name) for name in _HOLDER_COLUMNS})
        for address in dict.fromkeys(emails):
            emails_held[(book, address)] = holder
            email_rows.append((columns["id"], address, book))
        if columns["phone"]:
            other = phones_held.get((book, columns["phone"]))
            if other is None or holder.id < other.id:  # the check names the smallest id (see below)
                phones_held[(book, columns["phone"])] = holder
        for value in external:
            ids_held[(book, value)] = holder
        outcomes.append(len(accepted))
        accepted.append(columns)
    changes = contacts.create_many(session, accepted, actor_id)
    insert_rows(session, ContactEmailRow.__table__, ("contact_id", "email", "uniqueness_book"), email_rows)
    search_index.index_contacts(session, [change.row for change in changes], new=True)
    return [changes[outcome] if isinstance(outcome, int) else outcome for outcome in outcomes]


# What the answer to a taken email or phone needs of its holder: its id and whether the caller may read it.
_HOLDER_COLUMNS = ("id", "owner_id", "team_id", "partner_account_id")


def _numbers_checked(profile: Any) -> list[str]:
    """The phone numbers add_contact makes sure no other contact of the book has as its primary."""
    if getattr(profile, "allow_duplicate", False):
        return []
    return sorted({n for n in ([entry.number for entry in profile.phones] or [profile.phone]) if n})


def _taken(
    emails_held: dict[tuple[str, str], Any],
    phones_held: dict[tuple[str, str], Any],
    ids_held: dict[tuple[str, str], Any],
    book: str,
    wanted: tuple[Sequence[str], Sequence[str], Sequence[str]],
    caller: CallerContext | None,
) -> AlreadyExists | None:
    """What `_ensure_email_free`, `_ensure_phone_free`, then `external_ids.ensure_free` would answer for
    `wanted` (emails, phones, external ids): the first taken value in sort order, its holder named only
    to a caller who may read it."""
    emails, phones, external = wanted
    for held, values, refusal in (
        (emails_held, sorted(set(emails)), EmailTaken),
        (phones_held, phones, PhoneTaken),
        (ids_held, external, external_id_taken),
    ):
        taken = [value for value in values if (book, value) in held]
        if taken:
            holder = held[(book, taken[0])]
            readable = caller is None or in_scope(caller, contacts.resource_type, "read", holder)
            return refusal(taken[0], holder.id if readable else "")
    return None


def _email_holders(session: Session, books: set[str], emails: set[str]) -> dict[tuple[str, str], Any]:
    """(book, email) -> the contact holding that email in that book (id and ownership), for every pair
    of `books` x `emails` that is taken."""
    if not emails:
        return {}
    found = session.execute(
        select(
            *(getattr(Contact, name) for name in _HOLDER_COLUMNS),
            ContactEmailRow.uniqueness_book,
            ContactEmailRow.email,
        )
        .join(ContactEmailRow, ContactEmailRow.contact_id == Contact.id)
        .where(ContactEmailRow.uniqueness_book.in_(books), ContactEmailRow.email.in_(emails))
    ).all()
    return {(row.uniqueness_book, row.email): row for row in found}


def _phone_holders(session: Session, books: set[str], numbers: set[str]) -> dict[tuple[str, str], Any]:
    """(book, number) -> the live contact of that book with that primary phone (the smallest id, as
    `_ensure_phone_free` orders them), for every pair of `books` x `numbers` that is taken."""
    if not numbers:
        return {}
    found = session.execute(
        select(*(getattr(Contact, name) for name in _HOLDER_COLUMNS), Contact.uniqueness_book, Contact.phone)
        .where(Contact.uniqueness_book.in_(books), Contact.phone.in_(numbers), Contact.merged_into.is_(None))
        .order_by(Contact.id.desc())  # the smallest id last, so it stays in the dict
    ).all()
    return {(row.uniqueness_book, row.phone): row for row in found}


def rules_inputs(
    row: Any, merged: contacts_pb2.Contact, paths: Sequence[str]
) -> tuple[Written, dict[str, str]]:
    """What the domain's rules take for an update of `row` (None: not found) into `merged`: which of
    email/emails and phone/phones the caller changed, and the phone numbers the contact already has
    (-> their stored formatting)."""
    known = (
        {entry.get("number"): entry.get("formatted") or "" for entry in (row.phones or [])}
        if row is not None
        else {}
    )
    if row is not None and row.phone:
        known.setdefault(row.phone, "")
    written = Written(
        email=row is None or ("email" in paths and normalise_email(merged.email) != row.email),
        emails="emails" in paths,
        phone=row is None or ("phone" in paths and merged.phone.strip() != (row.phone or "")),
        phones="phones" in paths,
    )
    return written, known


def update_contact(
    session: Session,
    contact_id: str,
    partial: contacts_pb2.Contact,
    paths: Sequence[str],
    *,
    etag: str,
    actor_id: str,
    prepare: Callable[..., None],
    caller: CallerContext | None = None,
) -> Change[Contact]:
    """The repository's update, plus: a contact whose emails or book change (a new email, or a move to
    another partner account's book or the company's) must have every email free in its target book,
    and its external id (when it has one) likewise.

    `prepare(merged, written=, known_numbers=)` applies the domain's rules (contacts.api): `written` says
    which of email/emails and phone/phones the caller changed (contacts.people.domain.Written), and
    `known_numbers` are the phone numbers the contact already has."""
    target: list[str] = []
    wanted_id: list[str] = [""]
    before: dict[str, Any] = {}

    def prepare_and_check(merged: contacts_pb2.Contact) -> None:
        # The repository has loaded (and locked) the row, in the caller's scope, before merging.
        row = session.get(Contact, contact_id)
        written, known = rules_inputs(row, merged, paths)
        if row is not None:
            refuse_merged(session, contacts, row, caller)  # MergedInto naming the survivor
        prepare(merged, written=written, known_numbers=known)  # the domain's rules, normalising
        merged.external_id = external_ids.clean(merged.external_id)
        target[:] = email_addresses(merged)
        wanted_id[:] = [merged.external_id]
        book = book_of(merged.partner_account_id)
        if row is None:
            return
        old = [row.email, *(entry.get("address") for entry in (row.emails or []))]
        before.update(emails=sorted(set(old)), book=row.uniqueness_book)
        moved = row.uniqueness_book != book
        new_emails = set(old) != set(target)
        new_id = bool(merged.external_id) and merged.external_id != (row.external_id or "")
        if not (moved or new_emails or new_id):
            return
        # A move the caller may not make is refused before the target book is consulted, so the
        # answer never depends on what another book holds.
        contacts.check_ownership_change(caller, row, to_columns(merged))
        if moved or new_emails:
            _ensure_email_free(session, target, book, caller, contact_id)
        if moved or new_id:
            external_ids.ensure_free(session, contacts, merged.external_id, book, caller, contact_id)

    try:
        change = contacts.update(
            session,
            contact_id,
            partial,
            paths,
            etag=etag,
            actor_id=actor_id,
            prepare=prepare_and_check,
            caller=caller,
        )
        book = change.row.uniqueness_book
        if before and (before["emails"] != sorted(set(target)) or before["book"] != book):
            _store_emails(session, contact_id, book, target)
        if change.changes:
            search_index.index_contacts(session, [change.row])
        return change
    except IntegrityError as error:
        email = target[0] if target else normalise_email(partial.email)
        refusal = _unique_conflict(error, email, wanted_id[0])
        if refusal is None:
            raise
        raise refusal from None


def active_contacts() -> Select[tuple[Contact]]:
    """Where lists start: archived contacts have left them (they stay readable by id)."""
    return select(Contact).where(Contact.archived_at.is_(None))
