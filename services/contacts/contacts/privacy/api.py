"""PrivacyService of the contacts service: EraseContact (POST /api/v1/contacts/{id}:erase) and
ExportPersonalData (the contacts section of the gateway's GET /api/v1/contacts/{id}:exportData).

Erasure needs the right to delete the contact, in scope (out of scope NOT_FOUND, without the right
PERMISSION_DENIED), like archiving it. It runs in one transaction: the rows (contacts.privacy.erasure),
the record of the erasure and contact_erased in the outbox. Erasing an erased contact changes nothing and
answers the first erasure. The export needs to read the contact.
"""

from __future__ import annotations

import grpc
from google.protobuf import struct_pb2
from sqlalchemy import select

from contacts import store as contacts_store
from contacts.merge.guard import contention_aborts, refuse_merged
from contacts.privacy import erasure, events, export
from contacts.privacy.store import ErasedContact
from crm.common.v1 import privacy_pb2 as common_privacy_pb2
from crm.contacts.v1 import privacy_pb2, privacy_pb2_grpc
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading, utcnow
from crm_platform.protobuf import timestamp
from crm_platform.resources import idempotent_write
from crm_platform.resources.methods import actor_of
from crm_platform.service import Runtime, ServiceDefinition

SERVICE = "contacts"


def _answer(record: ErasedContact) -> privacy_pb2.ContactErasure:
    return privacy_pb2.ContactErasure(
        contact_id=record.contact_id, erased_at=timestamp(record.erased_at), erased_by=record.erased_by
    )


class PrivacyServicer(privacy_pb2_grpc.PrivacyServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    @contention_aborts
    def EraseContact(
        self, request: privacy_pb2.EraseContactRequest, context: grpc.ServicerContext
    ) -> privacy_pb2.ContactErasure:
        caller = current_caller_or_none()
        actor = actor_of(context)
        with idempotent_write(self.sessions, context, request, privacy_pb2.ContactErasure) as write:
            if write.replay is not None:
                return write.replay
            session = write.session
            # The delete right on the contact, in scope; the row stays locked until the erasure commits.
            row = contacts_store.contacts.get(
                session, request.id, for_update=True, caller=caller, action="delete"
            )
            done = session.get(ErasedContact, request.id)
            if done is None:
                # The person lives on in the survivor now: erasing the tombstone alone would leave them
                # there, so the caller is sent to the survivor (whose erasure covers its tombstones).
                refuse_merged(session, contacts_store.contacts, row, caller)
            if done is not None:
                return write.respond(_answer(done))
            when = utcnow()
            erasure.erase_rows(session, request.id)
            # Contacts merged into this one are the same person: their history and events go too.
            merged = session.scalars(
                select(contacts_store.Contact.id).where(contacts_store.Contact.merged_into == request.id)
            )
            for tombstone in sorted(merged):
                erasure.erase_rows(session, tombstone)
            erasure.record_erasure_history(session, request.id, actor, when)
            record = ErasedContact(contact_id=request.id, erased_at=when, erased_by=actor)
            session.add(record)
            session.flush()
            version = session.get(contacts_store.Contact, request.id, populate_existing=True).version
            events.record_contact_erased(session, request.id, actor, version, when)
            return write.respond(_answer(record))

    def ExportPersonalData(
        self, request: common_privacy_pb2.ExportPersonalDataRequest, context: grpc.ServicerContext
    ) -> common_privacy_pb2.PersonalDataExport:
        with reading(self.sessions) as session:
            document = export.export(session, request.contact_id, current_caller_or_none())
        data = struct_pb2.Struct()
        data.update(document)
        return common_privacy_pb2.PersonalDataExport(
            service=SERVICE, contact_id=request.contact_id, data=data
        )


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    privacy_pb2_grpc.add_PrivacyServiceServicer_to_server(PrivacyServicer(runtime), server)
    return [privacy_pb2.DESCRIPTOR.services_by_name["PrivacyService"].full_name]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """`definition` serving PrivacyService and re-applying erasures in its worker."""
    return definition.include(register, subscriptions=events.SUBSCRIPTIONS)
