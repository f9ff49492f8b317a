"""Lead conversion's side in the contacts service: the lead's contact and company, created or found,
through the contacts gRPC API (sales never reads contacts' database).

Who calls: the converting user. A service cannot sign caller contexts (only the gateway holds the key),
so the signed context of the incoming call (`x-crm-caller`, two minutes of validity, verified by this
service's interceptor already) is forwarded as it is: contacts applies that user's rights and scope, and
what conversion creates is exactly what the user could have created through the API.

Deduplicated: a contact whose email (or primary phone) is already in the book answers ALREADY_EXISTS
naming it (when the user may read it), and that contact is linked; a company is found by its domain the
same way, or by its exact name among those the user may read.

Every call has a deadline (SALES_CONTACTS_CALL_SECONDS). Contacts not answering in time, or not
reachable, is this service's UNAVAILABLE to its own caller (crm_platform.errors.Unavailable: a 503 over
REST), never an unhandled error.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import grpc

from crm.contacts.v1 import companies_pb2, companies_pb2_grpc, contacts_pb2, contacts_pb2_grpc
from crm_platform import config
from crm_platform.access.caller import METADATA_KEY
from crm_platform.errors import FailedPrecondition, PermissionDenied, Unavailable, details_from
from crm_platform.grpc_client import open_channel

CONTACTS_ADDR = config.grpc_addr_setting("contacts")
CALL_SECONDS = config.Setting(
    "SALES_CONTACTS_CALL_SECONDS",
    config.as_float,
    default="5.0",
    help="how long sales waits for each call to the contacts service (seconds) before answering UNAVAILABLE",
)
# Contacts' answers that mean "not now": this service's caller gets UNAVAILABLE, to try again later.
_NOT_ANSWERING = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


@dataclass(frozen=True)
class LeadPerson:
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    company_domain: str
    title: str
    industry: str
    country: str
    region: str
    source: str
    owner_id: str
    team_id: str
    partner_account_id: str


class ContactsLink:
    """One channel to contacts per process, opened on first use."""

    def __init__(self, address: str | None = None) -> None:
        self._address = address
        self._lock = threading.Lock()
        self._channel: grpc.Channel | None = None

    def _stubs(self) -> tuple[contacts_pb2_grpc.ContactsServiceStub, companies_pb2_grpc.CompaniesServiceStub]:
        with self._lock:
            if self._channel is None:
                self._channel = open_channel(
                    self._address or CONTACTS_ADDR.get(), default_deadline=CALL_SECONDS.get()
                )
        return contacts_pb2_grpc.ContactsServiceStub(self._channel), companies_pb2_grpc.CompaniesServiceStub(
            self._channel
        )

    def contact_for(self, person: LeadPerson, metadata: Sequence[tuple[str, str]]) -> str:
        contacts, _ = self._stubs()
        request = contacts_pb2.CreateContactRequest(
            first_name=person.first_name,
            last_name=person.last_name,
            email=person.email,
            phone=person.phone,
            company=person.company,
            job_title=person.title,
            industry=person.industry,
            country=person.country,
            region=person.region,
            lead_source=person.source,
            owner_id=person.owner_id,
            team_id=person.team_id,
            partner_account_id=person.partner_account_id,
        )
        try:
            return contacts.CreateContact(request, metadata=metadata, timeout=_timeout()).id
        except grpc.RpcError as error:
            return _existing(error, "contact")

    def company_for(self, person: LeadPerson, metadata: Sequence[tuple[str, str]]) -> str:
        """The company's id, "" when the lead names none."""
        if not person.company:
            return ""
        _, companies = self._stubs()
        if not person.company_domain:
            quoted = person.company.replace("\\", "\\\\").replace('"', '\\"')
            try:
                found = companies.ListCompanies(
                    companies_pb2.ListCompaniesRequest(filter=f'name = "{quoted}"', limit=1),
                    metadata=metadata,
                    timeout=_timeout(),
                )
            except grpc.RpcError as error:
                raise translated(error) from None
            if found.items:
                return found.items[0].id
        request = companies_pb2.CreateCompanyRequest(
            name=person.company,
            domain=person.company_domain,
            industry=person.industry,
            owner_id=person.owner_id,
            team_id=person.team_id,
            partner_account_id=person.partner_account_id,
        )
        try:
            return companies.CreateCompany(request, metadata=metadata, timeout=_timeout()).id
        except grpc.RpcError as error:
            return _existing(error, "company")

    def get_company(self, company_id: str, metadata: Sequence[tuple[str, str]]) -> companies_pb2.Company:
        """The company as the caller may read it (a company they may not read is as missing)."""
        _, companies = self._stubs()
        try:
            return companies.GetCompany(
                companies_pb2.GetCompanyRequest(id=company_id), metadata=metadata, timeout=_timeout()
            )
        except grpc.RpcError as error:
            raise translated(error) from None

    def get_contact(self, contact_id: str, metadata: Sequence[tuple[str, str]]) -> contacts_pb2.Contact:
        """The contact as the caller may read it (a contact they may not read is as missing)."""
        contacts, _ = self._stubs()
        try:
            return contacts.GetContact(
                contacts_pb2.GetContactRequest(id=contact_id), metadata=metadata, timeout=_timeout()
            )
        except grpc.RpcError as error:
            raise translated(error) from None

    def link(self, company_id: str, contact_id: str, title: str, metadata: Sequence[tuple[str, str]]) -> None:
        _, companies = self._stubs()
        try:
            companies.AddCompanyPerson(
                companies_pb2.AddCompanyPersonRequest(
                    company_id=company_id, contact_id=contact_id, title=title
                ),
                metadata=metadata,
                timeout=_timeout(),
            )
        except grpc.RpcError as error:
            raise translated(error) from None


def _timeout() -> float:
    return CALL_SECONDS.get()


def translated(error: grpc.RpcError) -> Exception:
    """What contacts refused, as this service's answer: its refusal of the user (403) stays one; a lead
    whose details contacts will not take is a precondition of the conversion; contacts not answering
    (unreachable, or past the call's deadline) is UNAVAILABLE, to try again later."""
    code = error.code()  # type: ignore[attr-defined]
    message = f"contacts: {error.details()}"  # type: ignore[attr-defined]
    if code in _NOT_ANSWERING:
        return Unavailable(f"the contacts service did not answer ({code.name.lower()}); try again later")
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return PermissionDenied(message)
    if code in (
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
    ):
        return FailedPrecondition(message)
    return error


def _existing(error: grpc.RpcError, kind: str) -> str:
    """The record an ALREADY_EXISTS names; anything else as `translated`."""
    if error.code() != grpc.StatusCode.ALREADY_EXISTS:  # type: ignore[attr-defined]
        raise translated(error) from None
    named = details_from(error).resource_name
    if not named:
        raise FailedPrecondition(
            f"a {kind} with the lead's details exists that you may not read; ask its owner to convert"
        ) from None
    return named


def forwarded_caller(context: grpc.ServicerContext) -> list[tuple[str, str]]:
    """The incoming call's signed caller context, to call contacts as the same user."""
    token = next((str(v) for k, v in context.invocation_metadata() or () if k == METADATA_KEY), "")
    return [(METADATA_KEY, token)] if token else []
