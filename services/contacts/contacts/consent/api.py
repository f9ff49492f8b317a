"""ConsentService: a contact's consents, gated by the contact's scope (crm_platform.access): reading needs
to read the contact, recording needs to update it; a contact out of scope is NOT_FOUND either way. A
merged contact answers as its tombstone does: reads MOVED to the survivor, a new record MergedInto
(contacts.merge.guard: the record is written under the share-locked contact, so a merge moves it or it
is refused, never left on the tombstone)."""

from __future__ import annotations

import grpc

from contacts import store as contacts_store
from contacts.consent import domain, events, store
from contacts.merge.guard import contention_aborts, lock_live
from contacts.merge.tombstones import read_live
from crm.contacts.v1 import consent_pb2, consent_pb2_grpc
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading
from crm_platform.pagination import clamp_limit
from crm_platform.protobuf import client_datetime, timestamp
from crm_platform.resources import idempotent_write
from crm_platform.resources.methods import actor_of
from crm_platform.service import Runtime, ServiceDefinition


def _short(enum: object, value: int) -> str:
    name: str = enum.Name(value)  # type: ignore[attr-defined]
    return name.split("_")[-1].lower()


def state_message(state: domain.State) -> consent_pb2.ConsentState:
    message = consent_pb2.ConsentState(
        channel=events.enum_value(consent_pb2.ConsentChannel, "CONSENT_CHANNEL", state.channel),
        purpose=events.enum_value(consent_pb2.ConsentPurpose, "CONSENT_PURPOSE", state.purpose),
        status=events.enum_value(consent_pb2.ConsentStatus, "CONSENT_STATUS", state.status),
    )
    if state.record is not None:
        message.source = state.record.source
        message.occurred_at.CopyFrom(timestamp(state.record.occurred_at))
        message.record_id = state.record.id
    return message


class ConsentServicer(consent_pb2_grpc.ConsentServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def ListConsents(
        self, request: consent_pb2.ListConsentsRequest, context: grpc.ServicerContext
    ) -> consent_pb2.ListConsentsResponse:
        with reading(self.sessions) as session:
            read_live(
                session.connection(), contacts_store.contacts, request.contact_id, current_caller_or_none()
            )
            states = domain.current_state(store.records_of(session, request.contact_id))
        return consent_pb2.ListConsentsResponse(items=[state_message(s) for s in states])

    @contention_aborts
    def RecordConsent(
        self, request: consent_pb2.RecordConsentRequest, context: grpc.ServicerContext
    ) -> consent_pb2.ConsentRecord:
        caller = current_caller_or_none()
        with idempotent_write(self.sessions, context, request, consent_pb2.ConsentRecord) as write:
            if write.replay is not None:
                return write.replay
            # Recording a consent changes the contact: the update right, in scope (404 out of scope).
            lock_live(write.session, contacts_store.contacts, request.contact_id, caller, action="update")
            record = store.add_record(
                write.session,
                request.contact_id,
                channel=_short(consent_pb2.ConsentChannel, request.channel),
                purpose=_short(consent_pb2.ConsentPurpose, request.purpose),
                status=_short(consent_pb2.ConsentStatus, request.status),
                source=request.source,
                occurred_at=client_datetime(request.occurred_at, "occurred_at")
                if request.HasField("occurred_at")
                else None,
                actor_id=actor_of(context),
            )
            events.record_consent_changed(write.session, record)
            return write.respond(events.to_message(record))

    def ListConsentHistory(
        self, request: consent_pb2.ListConsentHistoryRequest, context: grpc.ServicerContext
    ) -> consent_pb2.ListConsentHistoryResponse:
        limit = clamp_limit(request.limit)
        with reading(self.sessions) as session:
            read_live(
                session.connection(), contacts_store.contacts, request.contact_id, current_caller_or_none()
            )
            page = store.history_page(session, request.contact_id, limit, request.cursor)
            return consent_pb2.ListConsentHistoryResponse(
                items=[events.to_message(r) for r in page.items], next_cursor=page.next_cursor
            )


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    consent_pb2_grpc.add_ConsentServiceServicer_to_server(ConsentServicer(runtime), server)
    return [consent_pb2.DESCRIPTOR.services_by_name["ConsentService"].full_name]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """`definition` serving ConsentService too."""
    return definition.include(register)
