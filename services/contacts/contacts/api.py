"""The contacts gRPC servicer: the contract's methods on the chassis' standard methods.

The server interceptor has already checked each request against the contract's field rules (an Update's
resource is checked once merged); what is particular to contacts is here: the domain's rules and
normalisation on create and update, and the email unique within its book (store). Errors are domain
errors, which the chassis turns into rich statuses.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import empty_pb2
from sqlalchemy.orm import Session

from contacts import domain, events, store
from crm.common.v1 import history_pb2
from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm_platform.access import Ownership
from crm_platform.access.context import current_caller_or_none
from crm_platform.resources import Change, ResourceEvents, StandardMethods
from crm_platform.service import Runtime


def apply_contact_rules(contact: contacts_pb2.Contact) -> None:
    """The domain's rules on an updated contact, normalising it in place (as Create does)."""
    clean = domain.validate_new_contact(
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone,
        company=contact.company,
    )
    contact.first_name, contact.last_name, contact.email = clean.first_name, clean.last_name, clean.email
    contact.phone, contact.company = clean.phone, clean.company


class ContactsServicer(contacts_pb2_grpc.ContactsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.contacts = StandardMethods(
            runtime.sessions,
            store.contacts,
            contacts_pb2.Contact,
            list_spec=store.LIST_SPEC,
            listed=store.active_contacts,
            events=ResourceEvents(
                created=events.record_contact_created,
                updated=events.record_contact_updated,
                archived=events.record_contact_archived,
            ),
        )

    def CreateContact(
        self, request: contacts_pb2.CreateContactRequest, context: grpc.ServicerContext
    ) -> contacts_pb2.Contact:
        new = domain.validate_new_contact(
            first_name=request.first_name,
            last_name=request.last_name,
            email=request.email,
            phone=request.phone,
            company=request.company,
        )

        def add(session: Session, actor_id: str, ownership: Ownership | None) -> Change[Any]:
            return store.add_contact(session, new, actor_id, ownership, current_caller_or_none())

        return self.contacts.create(context, request, add=add)

    def GetContact(
        self, request: contacts_pb2.GetContactRequest, context: grpc.ServicerContext
    ) -> contacts_pb2.Contact:
        return self.contacts.get(request.id)

    def ListContacts(
        self, request: contacts_pb2.ListContactsRequest, context: grpc.ServicerContext
    ) -> contacts_pb2.ListContactsResponse:
        return contacts_pb2.ListContactsResponse(**self.contacts.list(request))

    def UpdateContact(
        self, request: contacts_pb2.UpdateContactRequest, context: grpc.ServicerContext
    ) -> contacts_pb2.Contact:
        return self.contacts.update(
            context, request, request.contact, apply=store.update_contact, prepare=apply_contact_rules
        )

    def DeleteContact(
        self, request: contacts_pb2.DeleteContactRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        return self.contacts.delete(context, request)

    def ListContactHistory(
        self, request: history_pb2.ListHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        return self.contacts.history(request)


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    contacts_pb2_grpc.add_ContactsServiceServicer_to_server(ContactsServicer(runtime), server)
    return [contacts_pb2.DESCRIPTOR.services_by_name["ContactsService"].full_name]
