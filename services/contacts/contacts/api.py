"""The contacts gRPC servicer: the contract's methods on the chassis' standard methods.

The server interceptor has already checked each request against the contract's field rules (an Update's
resource is checked once merged); what is particular to contacts is here: the domain's rules and
normalisation on create and update (contacts.domain for names and the primary email, contacts.people
for the profile: emails, phones in E.164, addresses, preferences, segmentation), and every email unique
within its book (store). Errors are domain errors, which the chassis turns into rich statuses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import grpc
import phonenumbers
from google.protobuf import empty_pb2
from sqlalchemy.orm import Session

from contacts import domain, events, store
from contacts.custom_fields.catalogue import Catalogue
from contacts.custom_fields.domain import clean_values
from contacts.custom_fields.records import RecordCustomFields, set_values, values_of
from contacts.merge.guard import contention_aborts, refuse_deleting_merged
from contacts.merge.tombstones import read_live
from contacts.people import domain as people
from contacts.search.listing import ContactSearch
from contacts.timeline.events import apply_created_in_transaction
from crm.common.v1 import history_pb2
from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm_platform import config
from crm_platform.access import Ownership
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading_connection
from crm_platform.errors import DomainError, InvalidArgument
from crm_platform.resources import Change, ResourceEvents, StandardMethods
from crm_platform.resources.methods import ownership_for_create
from crm_platform.service import Runtime
from crm_platform.validation import checks_own_contract


def _phone_region(value: str) -> str:
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("not a region phonenumbers knows: an ISO 3166-1 alpha-2 code such as US or DE")
    return region


DEFAULT_PHONE_REGION = config.Setting(
    "CONTACTS_DEFAULT_PHONE_REGION",
    _phone_region,
    default="US",
    help="the country whose numbering plan reads a phone number written without a leading + or 00",
)


def apply_contact_rules(
    contact: contacts_pb2.Contact,
    *,
    written: people.Written | None = None,
    known_numbers: Mapping[str, str] = people.NO_NUMBERS,
    region: str | None = None,
) -> None:
    """The domain's rules on an updated contact, normalising it in place (as Create does)."""
    _clean(contact, written or people.Written(), region or DEFAULT_PHONE_REGION.get(), known_numbers)


def _clean(
    target: Any, written: people.Written, region: str, known_numbers: Mapping[str, str] = people.NO_NUMBERS
) -> domain.NewContact:
    """The rules of contacts.domain and contacts.people on a Contact or a CreateContactRequest, in place;
    one InvalidArgument naming every bad field of both."""
    errors: dict[str, str] = {}
    try:
        clean = domain.validate_new_contact(
            first_name=target.first_name,
            last_name=target.last_name,
            email=target.email,
            company=target.company,
        )
        target.first_name, target.last_name, target.email = clean.first_name, clean.last_name, clean.email
        target.company = clean.company
    except InvalidArgument as error:
        errors.update(error.fields)
        target.email = domain.normalise_email(target.email)
    try:
        people.clean_profile(target, written=written, region=region, known_numbers=known_numbers)
    except InvalidArgument as error:
        errors.update(error.fields)
    if errors:
        raise InvalidArgument("invalid contact", errors)
    return domain.NewContact(target.first_name, target.last_name, target.email, target.phone, target.company)


def clean_create_request(
    request: contacts_pb2.CreateContactRequest, region: str
) -> tuple[domain.NewContact, contacts_pb2.CreateContactRequest]:
    """The domain's rules on a create request: the cleaned contact and a normalised copy of the request
    (the profile the store writes); InvalidArgument naming every bad field. CreateContact and the batch
    create of imports both start here."""
    profile = contacts_pb2.CreateContactRequest()
    profile.CopyFrom(request)
    written = people.Written(
        email=True,
        emails=bool(profile.emails),
        phone=bool(profile.phone.strip()),
        phones=bool(profile.phones),
    )
    return _clean(profile, written, region), profile


class CheckedCreate(NamedTuple):
    """A create request CreateContact's rules accepted: the contact for the store, its custom fields."""

    entry: store.NewContactEntry
    custom_values: dict[str, Any]


class ContactsServicer(contacts_pb2_grpc.ContactsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions
        self.phone_region = DEFAULT_PHONE_REGION.get()
        self.custom_fields = RecordCustomFields(
            "contacts", store.Contact, store.LIST_SPEC, Catalogue(), request_field="contact"
        )
        self.contacts = StandardMethods(
            runtime.sessions,
            store.contacts,
            contacts_pb2.Contact,
            list_spec=self.custom_fields.list_spec,
            listed=store.active_contacts,
            events=ResourceEvents(
                created=events.record_contact_created,
                updated=events.record_contact_updated,
                archived=events.record_contact_archived,
            ),
        )
        self.search = ContactSearch(self.contacts, store.search_index, self.phone_region)

    @checks_own_contract  # every bad field at once: the contract's, the domain's, the custom fields'
    def CreateContact(
        self, request: contacts_pb2.CreateContactRequest, context: grpc.ServicerContext
    ) -> contacts_pb2.Contact:
        new, profile = self.custom_fields.check_create(
            self.sessions, request, lambda: clean_create_request(request, self.phone_region)
        )

        def add(session: Session, actor_id: str, ownership: Ownership | None) -> Change[Any]:
            values = self.custom_fields.check_new(session, profile.custom_fields)
            set_values(profile.custom_fields, values)  # the cleaned values are what the row keeps
            change = store.add_contact(session, new, actor_id, ownership, current_caller_or_none(), profile)
            self.custom_fields.save(session, change.row.id, values)
            return change

        return self.contacts.create(context, request, add=add)

    # --- many creates at once: imports (contacts.imports.batch). Keep in step with CreateContact. ------

    def check_create(
        self,
        session: Session,
        request: contacts_pb2.CreateContactRequest,
        definitions: Any,
        cleaned: tuple[domain.NewContact, contacts_pb2.CreateContactRequest] | None = None,
    ) -> CheckedCreate:
        """What CreateContact checks before it writes, in its order: the domain's rules, the caller's
        right to the ownership asked for, the custom fields against `definitions` (the catalogue's, read
        once per batch: `self.custom_fields.definitions(session)`). The DomainError CreateContact would
        answer, or what `add_checked` writes. `cleaned`: `clean_create_request`'s answer for this
        request, found beforehand (imports.preparing)."""
        new, profile = cleaned if cleaned is not None else clean_create_request(request, self.phone_region)
        ownership = ownership_for_create(store.contacts, request)
        values = clean_values(values_of(profile.custom_fields), definitions, self.custom_fields.resource)
        set_values(profile.custom_fields, values)  # the cleaned values are what the row keeps
        return CheckedCreate(store.NewContactEntry(new, ownership, profile), values)

    def add_checked(
        self, session: Session, checked: Sequence[CheckedCreate], actor_id: str
    ) -> list[Change[Any] | DomainError]:
        """CreateContact's writes for many checked contacts in `session`'s transaction
        (store.add_contacts, their custom field values, one `contacts_imported` event announcing them,
        and their timeline entries, which CreateContact leaves to the worker:
        timeline.events.apply_created_in_transaction):
        per contact its Change or its refusal (a taken email, phone or external id), as if created one
        after the other."""
        outcomes = store.add_contacts(
            session, [create.entry for create in checked], actor_id, current_caller_or_none()
        )
        created = []
        for outcome, create in zip(outcomes, checked, strict=True):
            if isinstance(outcome, Change):
                if create.custom_values:
                    self.custom_fields.save(session, outcome.row.id, create.custom_values)
                created.append(outcome)
        recorded = events.record_contacts_imported(session, created)
        apply_created_in_transaction(session, store.messaging.positions, recorded)
        return list(outcomes)

    def GetContact(
        self, request: contacts_pb2.GetContactRequest, context: grpc.ServicerContext
    ) -> contacts_pb2.Contact:
        # A merged contact answers MOVED to its survivor (contacts.merge.tombstones).
        with reading_connection(self.sessions) as connection:
            row = read_live(connection, store.contacts, request.id, current_caller_or_none())
            return store.to_message(row)

    def ListContacts(
        self, request: contacts_pb2.ListContactsRequest, context: grpc.ServicerContext
    ) -> contacts_pb2.ListContactsResponse:
        listing = self.search if request.q else self.contacts
        return contacts_pb2.ListContactsResponse(**listing.list(request))

    @contention_aborts  # a wait for a contact a merge holds
    def UpdateContact(
        self, request: contacts_pb2.UpdateContactRequest, context: grpc.ServicerContext
    ) -> contacts_pb2.Contact:
        def prepare(
            contact: contacts_pb2.Contact, *, written: people.Written, known_numbers: Mapping[str, str]
        ) -> None:
            apply_contact_rules(
                contact, written=written, known_numbers=known_numbers, region=self.phone_region
            )

        return self.contacts.update(
            context,
            request,
            request.contact,
            apply=self.custom_fields.updating(store.update_contact),
            prepare=prepare,
        )

    @contention_aborts
    def DeleteContact(
        self, request: contacts_pb2.DeleteContactRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        refuse_deleting_merged(self.sessions, store.contacts, request.id, current_caller_or_none())
        return self.contacts.delete(context, request)

    def ListContactHistory(
        self, request: history_pb2.ListHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        return self.contacts.history(request)


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    contacts_pb2_grpc.add_ContactsServiceServicer_to_server(ContactsServicer(runtime), server)
    return [contacts_pb2.DESCRIPTOR.services_by_name["ContactsService"].full_name]
