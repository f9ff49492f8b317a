"""Companies' tables, their mapping to the contract, and the queries. Tables live in the contacts
service's database (contacts.store.Base): a company's people are links to its contacts.

- `companies`: a standard resource (crm_platform.resources.Repository: etag, field mask, history,
  record-level scope). The domain is unique per book like contacts' emails: `uniqueness_book` is the
  partner account, or "" for the company's own (never NULL, so the unique index compares it), and a
  unique index over (uniqueness_book, domain) settles races; companies without a domain (NULL) never
  collide.
- `company_people`: a person (contact) linked to a company with a role and a title, once per pair; at
  most one link per company is its primary person.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any, NamedTuple

from google.protobuf import json_format, struct_pb2
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Select, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from contacts import external_ids
from contacts.companies.domain import CleanAddress, CompanyFields, normalise_domain, parent_cycle
from contacts.merge.guard import lock_live, refuse_merged
from contacts.store import Base, Contact
from contacts.store import contacts as contact_repository
from contacts.store import to_message as contact_message
from crm.contacts.v1 import companies_pb2
from crm_platform import protojson
from crm_platform.access import CallerContext, Ownership, in_scope
from crm_platform.db import UtcDateTime, utcnow
from crm_platform.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from crm_platform.listing import ENUM, STRING, TIMESTAMP, CursorCodec, Field, ListRequest, ListSpec, list_page
from crm_platform.pagination import Page
from crm_platform.protobuf import timestamp
from crm_platform.resources import Change, FieldChange, Repository, etag_of
from crm_platform.resources.field_mask import writable_fields

# The unique index that makes a domain unique within its book (see Company.uniqueness_book).
DOMAIN_IN_BOOK = "uq_companies_book_domain"
ONE_LINK_PER_PAIR = "uq_company_people_company_contact"

SIZES = tuple(
    name
    for number, name in protojson.enum_names(companies_pb2.CompanySize.DESCRIPTOR).items()
    if name is not None
)
ROLES = protojson.enum_names(companies_pb2.CompanyPersonRole.DESCRIPTOR)


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Stored normalised (lower case, no "www."); NULL when unknown. Unique per book (index below).
    domain: Mapped[str | None] = mapped_column(String(253), nullable=True)
    industry: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The size band's JSON name ("51_200"), NULL when unknown: filters compare the names clients send.
    size: Mapped[str | None] = mapped_column(String(20), nullable=True)
    address_street: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address_city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    address_region: Mapped[str | None] = mapped_column(String(100), nullable=True)
    address_postal_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    address_country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    parent_company_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    website: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Record-level scope (crm_platform.access): NULL means none.
    owner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The book the company is in, within which domains are unique: its partner account's, or the
    # company's own (""). Derived from partner_account_id by the store on every insert and update.
    uniqueness_book: Mapped[str] = mapped_column(String(64))
    # Custom field values by name (contacts.custom_fields), 0010.
    custom_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    # Set on a company merged into another (contacts.merge): the survivor, never itself merged. Such a
    # company is an archived tombstone without a domain; reading it answers MOVED.
    merged_into: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    # The company's id in another system, NULL when none (contacts.external_ids: unique per book), 0011.
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True)

    __table_args__ = (
        *external_ids.indexes("companies"),
        # With the list's default order behind each scope column: a scoped first page is an index range.
        *(
            Index(f"ix_companies_{name}_created_at", name, "created_at", "id")
            for name in ("owner_id", "team_id", "partner_account_id")
        ),
        Index("ix_companies_name", "name"),
        Index(DOMAIN_IN_BOOK, "uniqueness_book", "domain", unique=True),
    )


class CompanyPersonLink(Base):
    __tablename__ = "company_people"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(36), ForeignKey("companies.id"))
    contact_id: Mapped[str] = mapped_column(String(36), ForeignKey("contacts.id"))
    # The role's JSON name ("decision_maker"), NULL when not given.
    role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    is_primary: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        # One link per pair; a company's people in list order.
        Index(ONE_LINK_PER_PAIR, "company_id", "contact_id", unique=True),
        Index("ix_company_people_company_created_at", "company_id", "created_at", "id"),
        # A person's companies in list order.
        Index("ix_company_people_contact_created_at", "contact_id", "created_at", "id"),
    )


def book_of(partner_account_id: str | None) -> str:
    """The uniqueness book of a company of this partner account (None or "": the company's own)."""
    return partner_account_id or ""


# --- the contract ---------------------------------------------------------------------------------


def _address(row: Any) -> companies_pb2.Address | None:
    address = companies_pb2.Address(
        street=row.address_street or "",
        city=row.address_city or "",
        region=row.address_region or "",
        postal_code=row.address_postal_code or "",
        country=row.address_country or "",
    )
    return address if address.ByteSize() else None


def to_message(company: Any) -> companies_pb2.Company:
    """`company` is an ORM row or a Core row (attribute access by column name)."""
    message = companies_pb2.Company(
        id=company.id,
        name=company.name,
        domain=company.domain or "",
        industry=company.industry or "",
        size=protojson.enum_numbers(companies_pb2.CompanySize.DESCRIPTOR).get(company.size or "", 0),
        parent_company_id=company.parent_company_id or "",
        website=company.website or "",
        phone=company.phone or "",
        description=company.description or "",
        created_at=timestamp(company.created_at),
        updated_at=timestamp(company.updated_at),
        etag=etag_of(company.id, company.version),
        owner_id=company.owner_id or "",
        team_id=company.team_id or "",
        partner_account_id=company.partner_account_id or "",
        external_id=company.external_id or "",
    )
    address = _address(company)
    if address is not None:
        message.address.CopyFrom(address)
    if company.custom_fields:
        message.custom_fields.update(company.custom_fields)
    if company.archived_at is not None:
        message.archived_at.CopyFrom(timestamp(company.archived_at))
    return message


_SIZE = companies_pb2.CompanySize.DESCRIPTOR


def _size_name(size: int) -> str | None:
    return protojson.enum_names(_SIZE).get(size)


def to_columns(message: companies_pb2.Company) -> dict[str, Any]:
    address = message.address
    return {
        "name": message.name,
        "domain": message.domain or None,
        "industry": message.industry or None,
        "size": _size_name(message.size),
        "address_street": address.street or None,
        "address_city": address.city or None,
        "address_region": address.region or None,
        "address_postal_code": address.postal_code or None,
        "address_country": address.country or None,
        "parent_company_id": message.parent_company_id or None,
        "website": message.website or None,
        "phone": message.phone or None,
        "description": message.description or None,
        "owner_id": message.owner_id or None,
        "team_id": message.team_id or None,
        "partner_account_id": message.partner_account_id or None,
        "uniqueness_book": book_of(message.partner_account_id),
        "custom_fields": json_format.MessageToDict(message.custom_fields) or None,
        "external_id": external_ids.clean(message.external_id) or None,
    }


# The address's parts: Company.address.<part> is column address_<part>.
_ADDRESS_PARTS = tuple(field.name for field in companies_pb2.Address.DESCRIPTOR.fields)


def created_fields(company: Any) -> list[FieldChange]:
    """The history changes of a new company (a row with the `companies` columns as attributes): exactly
    what encoding its message gives (Repository.created_fields_of_message;
    test_companies_created_history.py holds them equal), without building and encoding the whole
    message (~8 against ~33 us a row)."""
    changes = []
    for name in writable_fields(companies_pb2.Company.DESCRIPTOR):
        if name == "size":  # by its number's JSON name, as encoding the message names it
            value: Any = _size_name(protojson.enum_numbers(_SIZE).get(company.size or "", 0))
        elif name == "address":
            parts = {part: getattr(company, f"address_{part}") or None for part in _ADDRESS_PARTS}
            value = parts if any(parts.values()) else None
        elif name == "custom_fields":  # through a Struct, as to_message reads it (numbers are doubles)
            struct = struct_pb2.Struct()
            struct.update(company.custom_fields or {})
            value = json_format.MessageToDict(struct)
        else:
            value = getattr(company, name) or None
        if value:
            changes.append(FieldChange(name, None, value))
    return changes


companies = Repository(
    Company,
    "company",
    to_message=to_message,
    to_columns=to_columns,
    request_field="company",
    created_fields=created_fields,
)

LIST_SPEC = ListSpec(
    name="companies",
    fields={
        "name": Field(Company.name, STRING),
        "domain": Field(Company.domain, STRING),
        "industry": Field(Company.industry, STRING),
        "size": Field(Company.size, ENUM, enum_values=SIZES),
        "country": Field(Company.address_country, STRING),
        "city": Field(Company.address_city, STRING),
        "parent_company_id": Field(Company.parent_company_id, STRING),
        "owner_id": Field(Company.owner_id, STRING),
        "team_id": Field(Company.team_id, STRING),
        "partner_account_id": Field(Company.partner_account_id, STRING),
        "created_at": Field(Company.created_at, TIMESTAMP),
        "updated_at": Field(Company.updated_at, TIMESTAMP),
        "external_id": Field(Company.external_id, STRING),
    },
    orderable={"name", "domain", "industry", "created_at", "updated_at"},
    default_order="created_at",
    tie_breaker=Company.id,
)


def active_companies() -> Select[tuple[Company]]:
    """Where lists start: archived companies have left them (they stay readable by id)."""
    return select(Company).where(Company.archived_at.is_(None))


# --- rules that need the database -------------------------------------------------------------------


class DomainTaken(AlreadyExists):
    """Another company in the same book has this domain. The message is the same whoever asks; the
    existing company is named (ResourceInfo) only to a caller who may read it."""

    def __init__(self, domain: str, existing_id: str = "") -> None:
        super().__init__(
            f"a company with domain {domain} already exists",
            resource_type=companies.resource_type,
            existing_id=existing_id,
            description="the company that already has this domain",
        )


def _ensure_domain_free(
    session: Session, domain: str, book: str, caller: CallerContext | None, company_id: str = ""
) -> None:
    """DomainTaken when another company of `book` has `domain`. Checked first for a clear answer; the
    unique index still settles a race between two writers (then nobody is named)."""
    if not domain:
        return
    taken = session.execute(
        select(Company.id, Company.owner_id, Company.team_id, Company.partner_account_id).where(
            Company.uniqueness_book == book, Company.domain == domain, Company.id != company_id
        )
    ).first()
    if taken is None:
        return
    raise DomainTaken(domain, taken.id if _readable(taken, caller) else "")


def _unique_conflict(error: IntegrityError, domain: str, external_id: str) -> AlreadyExists | None:
    """The refusal a unique index's IntegrityError stands for, naming nobody; None for another one."""
    if _is_domain_conflict(error):
        return DomainTaken(domain)
    if external_ids.is_conflict(error, "companies"):
        return external_ids.ExternalIdTaken(companies.resource_type, external_id)
    return None


def _is_domain_conflict(error: IntegrityError) -> bool:
    text = str(error.orig)
    # PostgreSQL names the index; SQLite names its columns.
    return DOMAIN_IN_BOOK in text or "companies.uniqueness_book, companies.domain" in text


def check_parent(
    session: Session, company_id: str, parent_id: str, caller: CallerContext | None, field: str
) -> None:
    """The parent must be a company the caller may read (one they may not is "not found", exactly like
    one that does not exist), not archived, and not the company itself or one of its subsidiaries."""
    if not parent_id:
        return
    query = companies.scoped(select(Company.id, Company.archived_at).where(Company.id == parent_id), caller)
    # Share-locked until the write commits: a merge of the parent waits and then re-parents the new
    # subsidiary with the others, or got in first and the parent reads archived (contacts.merge.guard).
    parent = session.execute(query.with_for_update(read=True)).first()
    if parent is None:
        raise InvalidArgument(
            "no such parent company", {field: f"names no company you may read: {parent_id}"}
        )
    if parent.archived_at is not None:
        raise InvalidArgument("the parent company is archived", {field: "names an archived company"})
    if not company_id:
        return  # a new company has no subsidiaries yet
    # Walk up from the new parent (unscoped: the chain is the data's, and all it tells is whether the
    # company being changed, which the caller may update, is on it). Each company on the way is
    # share-locked until the write commits: two writers re-parenting companies of one chain at once
    # (A under B while B goes under A) then wait for each other (or one is ABORTED as a deadlock) and
    # the later one sees the cycle, instead of each passing on what the other has not committed yet.
    chain: dict[str, str | None] = {}
    current: str | None = parent_id
    while current is not None and current not in chain and current != company_id and len(chain) < 100:
        parent_of = select(Company.parent_company_id).where(Company.id == current)
        above = session.execute(parent_of.with_for_update(read=True)).scalar()
        chain[current] = above
        current = above
    if parent_cycle(company_id, parent_id, chain):
        raise InvalidArgument(
            "a company cannot be its own parent", {field: "would make the company its own ancestor"}
        )


class NewCompany(NamedTuple):
    """A company to add: its cleaned fields, its ownership (already checked against the caller's
    rights) and its checked custom field values."""

    fields: CompanyFields
    size: int = 0
    parent_company_id: str = ""
    ownership: Ownership | None = None
    custom_fields: dict[str, Any] | None = None
    external_id: str = ""

    @property
    def book(self) -> str:
        return book_of(self.ownership.partner_account_id if self.ownership is not None else None)


def _new_columns(new: NewCompany, book: str) -> dict[str, Any]:
    """The column values of a new company (a fresh id) in `book`."""
    fields, address, ownership = new.fields, new.fields.address, new.ownership
    return {
        "id": str(uuid.uuid4()),
        "name": fields.name,
        "domain": fields.domain or None,
        "industry": fields.industry or None,
        "size": _size_name(new.size),
        "address_street": address.street or None,
        "address_city": address.city or None,
        "address_region": address.region or None,
        "address_postal_code": address.postal_code or None,
        "address_country": address.country or None,
        "parent_company_id": new.parent_company_id or None,
        "website": fields.website or None,
        "phone": fields.phone or None,
        "description": fields.description or None,
        "owner_id": ownership.owner_id if ownership is not None else None,
        "team_id": ownership.team_id if ownership is not None else None,
        "partner_account_id": ownership.partner_account_id if ownership is not None else None,
        "uniqueness_book": book,
        "custom_fields": new.custom_fields or None,
        "external_id": external_ids.clean(new.external_id) or None,
    }


def add_company(
    session: Session, new: NewCompany, *, actor_id: str, caller: CallerContext | None = None
) -> Change[Company]:
    """Insert a company into the book of its partner account; DomainTaken when that book has the
    domain, ExternalIdTaken when it has the external id."""
    check_parent(session, "", new.parent_company_id, caller, "parent_company_id")
    book = new.book
    _ensure_domain_free(session, new.fields.domain, book, caller)
    external_id = external_ids.clean(new.external_id)
    external_ids.ensure_free(session, companies, external_id, book, caller)
    company = Company(**_new_columns(new, book))
    try:
        return companies.create(session, company, actor_id)
    except IntegrityError as error:
        refusal = _unique_conflict(error, new.fields.domain, external_id)
        if refusal is None:
            raise
        raise refusal from None


def add_companies(
    session: Session, entries: Sequence[NewCompany], actor_id: str, caller: CallerContext | None
) -> list[Change[Any] | AlreadyExists]:
    """`add_company` for many companies at once (imports), their parents already checked
    (`check_parent`): per entry, in order, its Change or the refusal adding them one after the other
    would have given (DomainTaken, then ExternalIdTaken: held in its book before, or by an earlier
    entry). One query each finds who holds the domains and the external ids; the companies and their
    history are written by one batched insert each. A writer that took a domain since makes the batch
    fail on the unique index (IntegrityError, the whole batch): the caller then adds them one by one."""
    books = {entry.book for entry in entries}
    ids = [external_ids.clean(entry.external_id) for entry in entries]
    domains_held = _domain_holders(session, books, {e.fields.domain for e in entries if e.fields.domain})
    ids_held = external_ids.holders(session, companies, books, {i for i in ids if i})
    outcomes: list[int | AlreadyExists] = []
    accepted: list[dict[str, Any]] = []
    for entry, external_id in zip(entries, ids, strict=True):
        book, domain = entry.book, entry.fields.domain
        refusal = _taken(domains_held, ids_held, book, domain, external_id, caller)
        if refusal is not None:
            outcomes.append(refusal)
            continue
        columns = _new_columns(entry, book)
        holder = SimpleNamespace(**{name: columns[name] for name in _HOLDER_COLUMNS})
        if domain:
            domains_held[(book, domain)] = holder
        if external_id:
            ids_held[(book, external_id)] = holder
        outcomes.append(len(accepted))
        accepted.append(columns)
    changes = companies.create_many(session, accepted, actor_id)
    return [changes[outcome] if isinstance(outcome, int) else outcome for outcome in outcomes]


# What the answer to a taken domain or external id needs of its holder: its id and whether the caller
# may read it.
_HOLDER_COLUMNS = ("id", "owner_id", "team_id", "partner_account_id")


def _taken(
    domains_held: dict[tuple[str, str], Any],
    ids_held: dict[tuple[str, str], Any],
    book: str,
    domain: str,
    external_id: str,
    caller: CallerContext | None,
) -> AlreadyExists | None:
    """What `_ensure_domain_free`, then `external_ids.ensure_free` would answer: the holder named only
    to a caller who may read it."""
    holder = domains_held.get((book, domain)) if domain else None
    if holder is not None:
        return DomainTaken(domain, holder.id if _readable(holder, caller) else "")
    holder = ids_held.get((book, external_id)) if external_id else None
    if holder is not None:
        existing = holder.id if _readable(holder, caller) else ""
        return external_ids.ExternalIdTaken(companies.resource_type, external_id, existing)
    return None


def _readable(holder: Any, caller: CallerContext | None) -> bool:
    return caller is None or in_scope(caller, companies.resource_type, "read", holder)


def _domain_holders(session: Session, books: set[str], domains: set[str]) -> dict[tuple[str, str], Any]:
    """(book, domain) -> the company holding that domain in that book (id and ownership), for every
    pair of `books` x `domains` that is taken (merged tombstones hold none)."""
    if not domains:
        return {}
    found = session.execute(
        select(
            *(getattr(Company, name) for name in _HOLDER_COLUMNS), Company.uniqueness_book, Company.domain
        ).where(Company.uniqueness_book.in_(books), Company.domain.in_(domains))
    ).all()
    return {(row.uniqueness_book, row.domain): row for row in found}


def normalise_merged(merged: companies_pb2.Company, prepare: Callable[[companies_pb2.Company], None]) -> None:
    """What an update does to a merged company before anything compares or checks it: the domain's rules
    (`prepare`, normalising in place), then the external id trimmed. An import's rows that would change
    nothing are judged by the same (imports/companies.py)."""
    prepare(merged)
    merged.external_id = external_ids.clean(merged.external_id)


def update_company(
    session: Session,
    company_id: str,
    partial: companies_pb2.Company,
    paths: Sequence[str],
    *,
    etag: str,
    actor_id: str,
    prepare: Callable[[companies_pb2.Company], None],
    caller: CallerContext | None = None,
) -> Change[Company]:
    """The repository's update, plus: a new parent must be readable and make no cycle; a company whose
    domain, external id or book changes must have them free in the target book."""
    target: list[str] = ["", ""]

    def prepare_and_check(merged: companies_pb2.Company) -> None:
        normalise_merged(merged, prepare)
        target[:] = [merged.domain, merged.external_id]
        # The repository has loaded (and locked) the row, in the caller's scope, before merging.
        row = session.get(Company, company_id)
        if row is None:
            return
        refuse_merged(session, companies, row, caller)
        if (row.parent_company_id or "") != merged.parent_company_id:
            check_parent(session, company_id, merged.parent_company_id, caller, "parent_company_id")
        book = book_of(merged.partner_account_id)
        moved = row.uniqueness_book != book
        new_domain = (row.domain or "") != merged.domain
        new_id = bool(merged.external_id) and (row.external_id or "") != merged.external_id
        if not (moved or new_domain or new_id):
            return
        # A move the caller may not make is refused before the target book is consulted, so the
        # answer never depends on what another book holds.
        companies.check_ownership_change(caller, row, to_columns(merged))
        if moved or new_domain:
            _ensure_domain_free(session, merged.domain, book, caller, company_id)
        if moved or new_id:
            external_ids.ensure_free(session, companies, merged.external_id, book, caller, company_id)

    try:
        return companies.update(
            session,
            company_id,
            partial,
            paths,
            etag=etag,
            actor_id=actor_id,
            prepare=prepare_and_check,
            caller=caller,
        )
    except IntegrityError as error:
        refusal = _unique_conflict(error, target[0] or normalise_domain(partial.domain), target[1])
        if refusal is None:
            raise
        raise refusal from None


def clean_address(address: companies_pb2.Address) -> CleanAddress:
    return CleanAddress(
        street=address.street,
        city=address.city,
        region=address.region,
        postal_code=address.postal_code,
        country=address.country,
    )


# --- people -----------------------------------------------------------------------------------------


PEOPLE_SPEC = ListSpec(
    name="company_people",
    fields={"created_at": Field(CompanyPersonLink.created_at, TIMESTAMP)},
    orderable={"created_at"},
    default_order="created_at",
    tie_breaker=CompanyPersonLink.id,
)


def link_message(link: CompanyPersonLink, company: Any, contact: Any) -> companies_pb2.CompanyPerson:
    message = companies_pb2.CompanyPerson(
        company_id=link.company_id,
        contact_id=link.contact_id,
        role=protojson.enum_numbers(companies_pb2.CompanyPersonRole.DESCRIPTOR).get(link.role or "", 0),
        title=link.title or "",
        is_primary=link.is_primary,
        created_at=timestamp(link.created_at),
        updated_at=timestamp(link.updated_at),
    )
    if company is not None:
        message.company.CopyFrom(to_message(company))
    if contact is not None:
        message.contact.CopyFrom(contact_message(contact))
    return message


def _linkable(session: Session, company_id: str, contact_id: str, caller: CallerContext | None) -> tuple:
    """The company (locked, which serialises its links' writers) and the contact (share-locked) of a
    link write: the caller must read both (NOT_FOUND otherwise, whichever is out of scope) and update the
    company (PERMISSION_DENIED when they read it but may not change it). Either merged is refused
    (MergedInto naming the survivor): locked, neither can be merged away before the link commits, so a
    merge moves the link or the link is refused (contacts.merge.guard)."""
    company = companies.get(session, company_id, for_update=True, caller=caller, action="update")
    refuse_merged(session, companies, company, caller)
    contact = lock_live(session, contact_repository, contact_id, caller)
    return company, contact


def links_locked(session: Session, column: Any, ids: Sequence[str]) -> list[CompanyPersonLink]:
    """The links whose `column` (company_id or contact_id) is one of `ids`, locked in id order (FOR
    UPDATE, PostgreSQL) until the transaction ends. Both kinds of merge re-point links (a contacts merge
    by contact, a companies merge by company), each holding only its own records' locks: locking the
    links they fold, all in one order, makes two merges meeting on a link wait for each other instead
    of one updating a row the other has just moved or deleted."""
    query = (
        select(CompanyPersonLink)
        .where(column.in_(list(ids)))
        .order_by(CompanyPersonLink.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def add_person(
    session: Session,
    company_id: str,
    contact_id: str,
    *,
    role: int,
    title: str,
    is_primary: bool,
    caller: CallerContext | None = None,
) -> companies_pb2.CompanyPerson:
    """Links the contact to the company, or changes the existing link; a primary link makes the
    company's previous primary person no longer primary."""
    company, contact = _linkable(session, company_id, contact_id, caller)
    for record, kind in ((company, "company"), (contact, "contact")):
        if record.archived_at is not None:
            raise FailedPrecondition(f"{kind} {record.id} is archived; restore it before linking")
    now = utcnow()
    if is_primary:
        session.execute(
            update(CompanyPersonLink)
            .where(
                CompanyPersonLink.company_id == company_id,
                CompanyPersonLink.contact_id != contact_id,
                CompanyPersonLink.is_primary.is_(True),
            )
            .values(is_primary=False, updated_at=now)
        )
    link = session.scalars(
        select(CompanyPersonLink).where(
            CompanyPersonLink.company_id == company_id, CompanyPersonLink.contact_id == contact_id
        )
    ).one_or_none()
    role_name = ROLES.get(role)
    if link is None:
        link = CompanyPersonLink(
            id=str(uuid.uuid4()),
            company_id=company_id,
            contact_id=contact_id,
            created_at=now,
        )
        session.add(link)
    changed = (link.role, link.title, link.is_primary) != (role_name, title or None, is_primary)
    link.role, link.title, link.is_primary = role_name, title or None, is_primary
    if changed or link.updated_at is None:
        link.updated_at = now
    session.flush()
    return link_message(link, company, contact)


def remove_person(
    session: Session, company_id: str, contact_id: str, *, caller: CallerContext | None = None
) -> None:
    _linkable(session, company_id, contact_id, caller)
    link = session.scalars(
        select(CompanyPersonLink).where(
            CompanyPersonLink.company_id == company_id, CompanyPersonLink.contact_id == contact_id
        )
    ).one_or_none()
    if link is None:
        raise NotFound(
            f"contact {contact_id} is not linked to company {company_id}",
            resource_type="company_person",
            resource_name=f"{company_id}/{contact_id}",
        )
    session.delete(link)
    session.flush()


def company_people(
    session: Session,
    company_id: str,
    request: ListRequest,
    codec: CursorCodec,
    caller: CallerContext | None,
) -> tuple[Any, Page[Any]]:
    """The company (NOT_FOUND out of scope) and a page of its links to contacts the caller may read
    and that are not archived, each with its contact."""
    company = companies.read(session, company_id, caller=caller)
    query = (
        select(CompanyPersonLink, Contact)
        .join(Contact, Contact.id == CompanyPersonLink.contact_id)
        .where(CompanyPersonLink.company_id == company_id, Contact.archived_at.is_(None))
    )
    query = contact_repository.scoped(query, caller)
    return company, list_page(session, query, PEOPLE_SPEC, _bound(request, "company", company_id), codec)


def contact_companies(
    session: Session,
    contact_id: str,
    request: ListRequest,
    codec: CursorCodec,
    caller: CallerContext | None,
) -> tuple[Any, Page[Any]]:
    """The contact (NOT_FOUND out of scope) and a page of its links to companies the caller may read
    and that are not archived, each with its company."""
    contact = contact_repository.read(session, contact_id, caller=caller)
    query = (
        select(CompanyPersonLink, Company)
        .join(Company, Company.id == CompanyPersonLink.company_id)
        .where(CompanyPersonLink.contact_id == contact_id, Company.archived_at.is_(None))
    )
    query = companies.scoped(query, caller)
    return contact, list_page(session, query, PEOPLE_SPEC, _bound(request, "contact", contact_id), codec)


def _bound(request: ListRequest, kind: str, record_id: str) -> ListRequest:
    # A cursor is good only for the list it came from: this company's people, this contact's companies.
    return ListRequest(
        cursor=request.cursor, limit=request.limit, caller=f"{request.caller}|{kind}:{record_id}"
    )
