"""Privacy in the sales service: its part of a person's data export (PrivacyService, internal; the gateway
assembles GET /api/v1/contacts/{id}:exportData) and erasure on contacts' `contact_erased`.

sales holds no records about people yet (its tables arrive with the issues that build them), so the
export is an empty document and erasure has nothing to change; both are wired so that the first table
holding personal data adds its rows to EXPORTERS and its clean-up to ERASERS, and the platform-wide
guarantees hold from then on. Its outbox holds no events about people; its inbox only ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import grpc
from google.protobuf import struct_pb2
from sqlalchemy.orm import Session

from crm.common.v1 import privacy_pb2 as common_privacy_pb2
from crm.sales.v1 import privacy_pb2, privacy_pb2_grpc
from crm_platform.access.context import current_caller
from crm_platform.db import reading
from crm_platform.events import PoisonEvent
from crm_platform.events.wire import Event
from crm_platform.service import Runtime, ServiceDefinition, Subscription

log = logging.getLogger(__name__)

SERVICE = "sales"

# section name -> the person's records in it (JSON-able), read in the caller's scope.
EXPORTERS: dict[str, Callable[[Session, str], list[dict[str, Any]]]] = {}
# Each removes or anonymises the person's data in one kind of record, in the event's transaction.
ERASERS: list[Callable[[Session, str], None]] = []


def on_contact_erased(session: Session, event: Event) -> None:
    contact_id = event.data.get("contact_id")
    if not isinstance(contact_id, str) or not contact_id:
        raise PoisonEvent("contact_erased without contact_id")
    for erase in ERASERS:
        erase(session, contact_id)
    log.info("contact erasure applied", extra={"contact_id": contact_id, "event_id": event.id})


SUBSCRIPTIONS = (Subscription("contacts", "contact_erased", on_contact_erased),)


class PrivacyServicer(privacy_pb2_grpc.PrivacyServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def ExportPersonalData(
        self, request: common_privacy_pb2.ExportPersonalDataRequest, context: grpc.ServicerContext
    ) -> common_privacy_pb2.PersonalDataExport:
        current_caller()  # a verified caller, as for every call
        with reading(self.sessions) as session:
            document = {name: read(session, request.contact_id) for name, read in EXPORTERS.items()}
        data = struct_pb2.Struct()
        data.update(document)
        return common_privacy_pb2.PersonalDataExport(
            service=SERVICE, contact_id=request.contact_id, data=data
        )


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    privacy_pb2_grpc.add_PrivacyServiceServicer_to_server(PrivacyServicer(runtime), server)
    return [privacy_pb2.DESCRIPTOR.services_by_name["PrivacyService"].full_name]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """`definition` serving PrivacyService and applying contact_erased (in place, and returned)."""
    registered = definition.register_grpc

    def register_all(server: grpc.Server, runtime: Runtime) -> Iterable[str]:
        return [*registered(server, runtime), *register(server, runtime)]

    definition.register_grpc = register_all
    definition.subscriptions = (*definition.subscriptions, *SUBSCRIPTIONS)
    return definition
