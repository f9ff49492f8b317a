"""The contacts gRPC servicer: validates, calls domain and store, returns messages.

Errors are raised as domain errors; the chassis maps them to status codes.
"""

from __future__ import annotations

import grpc

from contacts import domain, events, store
from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm_platform.db import reading, transaction
from crm_platform.pagination import clamp_limit
from crm_platform.protobuf import timestamp
from crm_platform.service import Runtime
from crm_platform.validation import required


def to_message(contact: store.Contact) -> contacts_pb2.Contact:
    return contacts_pb2.Contact(
        id=contact.id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        phone=contact.phone,
        company=contact.company,
        created_at=timestamp(contact.created_at),
        updated_at=timestamp(contact.updated_at),
    )


class ContactsServicer(contacts_pb2_grpc.ContactsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

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
        with transaction(self.sessions) as session:
            contact = store.add_contact(session, new)
            events.record_contact_created(session, contact)
        return to_message(contact)

    def GetContact(
        self, request: contacts_pb2.GetContactRequest, context: grpc.ServicerContext
    ) -> contacts_pb2.Contact:
        contact_id = required(request.id, "id")
        with reading(self.sessions) as session:
            return to_message(store.get_contact(session, contact_id))

    def ListContacts(
        self, request: contacts_pb2.ListContactsRequest, context: grpc.ServicerContext
    ) -> contacts_pb2.ListContactsResponse:
        limit = clamp_limit(request.limit)
        with reading(self.sessions) as session:
            page = store.list_contacts(session, limit, request.cursor)
            return contacts_pb2.ListContactsResponse(
                items=[to_message(c) for c in page.items], next_cursor=page.next_cursor
            )


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    contacts_pb2_grpc.add_ContactsServiceServicer_to_server(ContactsServicer(runtime), server)
    return [contacts_pb2.DESCRIPTOR.services_by_name["ContactsService"].full_name]
