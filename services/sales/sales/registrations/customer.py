"""A registration's customer as the contacts service knows it: the company (found by its domain in the
partner account's book, or created there; or an existing one named by id) and the person, through the
contacts gRPC API as the registering user (their forwarded caller context, sales.leads.contacts_link).

Sales never decides whether two companies are the same: the company is whatever contacts' dedupe (a
domain is unique within a book) answers, and the domain it keeps for it (trimmed, lower case, without
"www.") is what recognises the company across partners' books, where each partner has a record of its
own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crm_platform.access import Ownership
from crm_platform.errors import FailedPrecondition, InvalidArgument
from sales.leads.contacts_link import ContactsLink, LeadPerson
from sales.registrations import domain
from sales.registrations.domain import CompanyAsked


@dataclass(frozen=True)
class Customer:
    company_id: str
    company_name: str
    company_domain: str
    contact_id: str


def _in_book(kind: str, field: str, record_partner: str, ownership: Ownership) -> None:
    # A record of another book (another partner's, or the company's own for a partner registration)
    # could not be worked on together by staff and this partner.
    if record_partner != (ownership.partner_account_id or ""):
        raise InvalidArgument(
            "invalid registration", {field: f"names a {kind} outside the registration's partner account"}
        )


def _company(
    link: ContactsLink, asked: CompanyAsked, ownership: Ownership, metadata: Sequence[tuple[str, str]]
) -> tuple[str, str, str]:
    """(id, name, domain) of the asked company as contacts keeps it."""
    company_id = asked.company_id
    if not company_id:
        person = LeadPerson(
            first_name="",
            last_name="",
            email="",
            phone="",
            company=asked.name,
            company_domain=asked.domain,
            title="",
            industry="",
            country="",
            region="",
            source="",
            owner_id=ownership.owner_id or "",
            team_id=ownership.team_id or "",
            partner_account_id=ownership.partner_account_id or "",
        )
        company_id = link.company_for(person, metadata)  # created, or the holder of the domain in the book
    try:
        company = link.get_company(company_id, metadata)
    except FailedPrecondition as refused:  # missing, or not the caller's to read
        raise InvalidArgument("invalid registration", {"company_id": refused.message}) from None
    _in_book("company", "company_id", company.partner_account_id, ownership)
    return company.id, company.name, domain.require_domain(company.id, company.domain)


def resolve(
    link: ContactsLink,
    asked: CompanyAsked,
    contact_id: str,
    ownership: Ownership,
    metadata: Sequence[tuple[str, str]],
) -> Customer:
    company_id, name, company_domain = _company(link, asked, ownership, metadata)
    if contact_id:
        try:
            contact = link.get_contact(contact_id, metadata)
        except FailedPrecondition as refused:
            raise InvalidArgument("invalid registration", {"contact_id": refused.message}) from None
        _in_book("contact", "contact_id", contact.partner_account_id, ownership)
    return Customer(company_id, name, company_domain, contact_id)
