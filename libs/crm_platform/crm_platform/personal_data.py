"""A service's part in the platform's privacy guarantees, for a service that keeps its personal data in a
few simple kinds of record: its section of a person's data export (its internal `PrivacyService`, which
the gateway asks when it assembles GET /api/v1/contacts/{id}:exportData) and its erasure on contacts'
`contact_erased`.

A service lists what it holds about people as exporters (section name -> the person's records, read in
the caller's scope) and erasers (each removes or anonymises the person's data in one kind of record, in
the event's transaction). With none listed (sales, marketing and support until their tables arrive) the
export is an empty document and erasure changes nothing, but both are wired, so the first table holding
personal data only adds its exporter and eraser.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import grpc
from google.protobuf import struct_pb2
from sqlalchemy.orm import Session

from crm.common.v1 import privacy_pb2 as common_privacy_pb2
from crm_platform.access.context import current_caller
from crm_platform.db import reading
from crm_platform.events import PoisonEvent
from crm_platform.events.wire import Event
from crm_platform.service import Runtime, Subscription

log = logging.getLogger(__name__)

Exporter = Callable[[Session, str], list[dict[str, Any]]]
Eraser = Callable[[Session, str], None]


@dataclass
class PersonalData:
    service: str
    exporters: dict[str, Exporter] = field(default_factory=dict)
    erasers: list[Eraser] = field(default_factory=list)

    def on_contact_erased(self, session: Session, event: Event) -> None:
        contact_id = event.data.get("contact_id")
        if not isinstance(contact_id, str) or not contact_id:
            raise PoisonEvent("contact_erased without contact_id")
        for erase in self.erasers:
            erase(session, contact_id)
        log.info("contact erasure applied", extra={"contact_id": contact_id, "event_id": event.id})

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return (Subscription("contacts", "contact_erased", self.on_contact_erased),)

    def export(
        self, runtime: Runtime, request: common_privacy_pb2.ExportPersonalDataRequest
    ) -> common_privacy_pb2.PersonalDataExport:
        current_caller()  # a verified caller, as for every call
        with reading(runtime.sessions) as session:
            document = {name: read(session, request.contact_id) for name, read in self.exporters.items()}
        data = struct_pb2.Struct()
        data.update(document)
        return common_privacy_pb2.PersonalDataExport(
            service=self.service, contact_id=request.contact_id, data=data
        )

    def registration(
        self, privacy_pb2: ModuleType, privacy_pb2_grpc: ModuleType
    ) -> Callable[[grpc.Server, Runtime], list[str]]:
        """Registers the service's `PrivacyService` (its generated modules) answering with `export`."""
        personal_data = self

        class PrivacyServicer(privacy_pb2_grpc.PrivacyServiceServicer):  # type: ignore[name-defined,misc]
            def __init__(self, runtime: Runtime) -> None:
                self.runtime = runtime

            def ExportPersonalData(
                self, request: common_privacy_pb2.ExportPersonalDataRequest, context: grpc.ServicerContext
            ) -> common_privacy_pb2.PersonalDataExport:
                return personal_data.export(self.runtime, request)

        def register(server: grpc.Server, runtime: Runtime) -> list[str]:
            privacy_pb2_grpc.add_PrivacyServiceServicer_to_server(PrivacyServicer(runtime), server)
            return [privacy_pb2.DESCRIPTOR.services_by_name["PrivacyService"].full_name]

        return register
