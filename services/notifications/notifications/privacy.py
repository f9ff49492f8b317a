"""Privacy in the notifications service: its part of a person's data export (PrivacyService, internal;
the gateway assembles GET /api/v1/contacts/{id}:exportData) and erasure on contacts' `contact_erased`.

Erasure keeps the notifications as business records (that a welcome went out on which channel when, and
to whom by id) but removes what is personal in them: titles and bodies (which greet the person by
name and name their company) become ERASED_TITLE / ERASED_BODY. The outbox's copies go too: published
`notification_sent` events about the person are deleted, pending ones keep their place in their
record's sequence with title and body blanked. The inbox and consumer positions hold only ids.
"""

from __future__ import annotations

import json
import logging

import grpc
from google.protobuf import struct_pb2
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from crm.common.v1 import privacy_pb2 as common_privacy_pb2
from crm.notifications.v1 import privacy_pb2, privacy_pb2_grpc
from crm_platform import protojson
from crm_platform.access import require
from crm_platform.access.context import current_caller
from crm_platform.db import reading
from crm_platform.events import PoisonEvent
from crm_platform.events.wire import Event
from crm_platform.service import Runtime, ServiceDefinition, Subscription
from notifications import store
from notifications.api import to_message
from notifications.domain import RESOURCE_TYPE

log = logging.getLogger(__name__)

SERVICE = "notifications"
ERASED_TITLE = "[erased]"
ERASED_BODY = "[erased]"
# Payload fields of this service's events that may hold personal data.
PERSONAL_PAYLOAD_FIELDS = ("title", "body")

_table = store.Notification.__table__


def erase_contact(session: Session, contact_id: str) -> int:
    """Anonymise the person's notifications and this service's outbox copies of them; returns how many
    notifications were anonymised."""
    ids = list(session.scalars(select(_table.c.id).where(_table.c.contact_id == contact_id)))
    session.execute(
        update(_table).where(_table.c.contact_id == contact_id).values(title=ERASED_TITLE, body=ERASED_BODY)
    )
    outbox = store.messaging.outbox
    mentions = or_(
        outbox.c.payload.contains(contact_id, autoescape=True),
        *(outbox.c.aggregate_id == i for i in ids),
    )
    session.execute(delete(outbox).where(mentions, outbox.c.published_at.is_not(None)))
    for row in session.execute(select(outbox.c.id, outbox.c.payload).where(mentions)).all():
        payload = json.loads(row.payload)
        for name in PERSONAL_PAYLOAD_FIELDS:
            if payload.get(name):
                payload[name] = ERASED_TITLE
        session.execute(update(outbox).where(outbox.c.id == row.id).values(payload=json.dumps(payload)))
    return len(ids)


def on_contact_erased(session: Session, event: Event) -> None:
    contact_id = event.data.get("contact_id")
    if not isinstance(contact_id, str) or not contact_id:
        raise PoisonEvent("contact_erased without contact_id")
    count = erase_contact(session, contact_id)
    log.info(
        "notifications of an erased contact anonymised",
        extra={"contact_id": contact_id, "notifications": count, "event_id": event.id},
    )


SUBSCRIPTIONS = (Subscription("contacts", "contact_erased", on_contact_erased),)


class PrivacyServicer(privacy_pb2_grpc.PrivacyServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def ExportPersonalData(
        self, request: common_privacy_pb2.ExportPersonalDataRequest, context: grpc.ServicerContext
    ) -> common_privacy_pb2.PersonalDataExport:
        """The person's notifications in the caller's scope (like ListNotifications), oldest first."""
        caller = current_caller()
        require(caller, RESOURCE_TYPE, "read")
        query = (
            store.visible(caller)
            .where(_table.c.contact_id == request.contact_id)
            .order_by(_table.c.created_at, _table.c.id)
        )
        with reading(self.sessions) as session:
            rows = session.execute(query).all()
        data = struct_pb2.Struct()
        data.update({"notifications": [protojson.encode(to_message(r)) for r in rows]})
        return common_privacy_pb2.PersonalDataExport(
            service=SERVICE, contact_id=request.contact_id, data=data
        )


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    privacy_pb2_grpc.add_PrivacyServiceServicer_to_server(PrivacyServicer(runtime), server)
    return [privacy_pb2.DESCRIPTOR.services_by_name["PrivacyService"].full_name]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """`definition` serving PrivacyService and erasing on contact_erased."""
    return definition.include(register, subscriptions=SUBSCRIPTIONS)
