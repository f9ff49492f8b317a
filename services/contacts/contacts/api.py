"""The contacts gRPC servicer: the contract's standard methods on the chassis.

The server interceptor has already checked each request against the contract's field rules (an Update's
resource is checked once merged, by the repository); errors are raised as domain errors, which the
chassis turns into rich statuses. Every write runs in `idempotent_write`: with an `idempotency-key` in
the metadata a retry replays the first answer, without one it is a plain transaction.
"""

from __future__ import annotations

import grpc
from google.protobuf import empty_pb2

from contacts import domain, events, store
from crm.common.v1 import history_pb2
from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm_platform.db import reading
from crm_platform.grpc_client import Caller
from crm_platform.listing import CursorCodec, ListRequest
from crm_platform.resources import idempotent_write, service_secret
from crm_platform.service import Runtime
from crm_platform.validation import required


def actor_of(context: grpc.ServicerContext) -> str:
    """Who is making the call (the gateway passes the authenticated user); "" for the system."""
    caller = Caller.from_metadata(context.invocation_metadata())
    return caller.user_id if caller is not None else ""


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
        self.sessions = runtime.sessions

    def _cursor_codec(self) -> CursorCodec:
        # Shared by every replica through the service's database; cached per process after the first call.
        return CursorCodec(service_secret(self.sessions, "cursor"))

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
        with idempotent_write(self.sessions, context, request, contacts_pb2.Contact) as write:
            if write.replay is not None:
                return write.replay
            change = store.add_contact(write.session, new, actor_of(context))
            events.record_contact_created(write.session, change)
            return write.respond(store.to_message(change.row))

    def GetContact(
        self, request: contacts_pb2.GetContactRequest, context: grpc.ServicerContext
    ) -> contacts_pb2.Contact:
        with reading(self.sessions) as session:
            return store.to_message(store.get_contact(session, request.id))

    def ListContacts(
        self, request: contacts_pb2.ListContactsRequest, context: grpc.ServicerContext
    ) -> contacts_pb2.ListContactsResponse:
        asked = ListRequest(
            filter=request.filter, order_by=request.order_by, cursor=request.cursor, limit=request.limit
        )
        codec = self._cursor_codec()
        with reading(self.sessions) as session:
            page = store.list_contacts(session, asked, codec)
            return contacts_pb2.ListContactsResponse(
                items=[store.to_message(c) for c in page.items], next_cursor=page.next_cursor
            )

    def UpdateContact(
        self, request: contacts_pb2.UpdateContactRequest, context: grpc.ServicerContext
    ) -> contacts_pb2.Contact:
        contact_id = required(request.contact.id, "contact.id")
        with idempotent_write(self.sessions, context, request, contacts_pb2.Contact) as write:
            if write.replay is not None:
                return write.replay
            change = store.update_contact(
                write.session,
                contact_id,
                request.contact,
                list(request.update_mask.paths),
                etag=request.contact.etag,
                actor_id=actor_of(context),
                prepare=apply_contact_rules,
            )
            if change.changes:  # an update that changed nothing is not news
                events.record_contact_updated(write.session, change)
            return write.respond(store.to_message(change.row))

    def DeleteContact(
        self, request: contacts_pb2.DeleteContactRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        with idempotent_write(self.sessions, context, request, empty_pb2.Empty) as write:
            if write.replay is not None:
                return write.replay
            change = store.archive_contact(
                write.session, request.id, etag=request.etag, actor_id=actor_of(context)
            )
            if change.changes:  # archiving an archived contact changes nothing
                events.record_contact_archived(write.session, change)
            return write.respond(empty_pb2.Empty())

    def ListContactHistory(
        self, request: history_pb2.ListHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        with reading(self.sessions) as session:
            return store.contact_history(session, request.id, request.limit, request.cursor)


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    contacts_pb2_grpc.add_ContactsServiceServicer_to_server(ContactsServicer(runtime), server)
    return [contacts_pb2.DESCRIPTOR.services_by_name["ContactsService"].full_name]
