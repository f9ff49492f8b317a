"""consent_changed, written to the outbox in the transaction of the record. Its aggregate is the contact,
so it is ordered with the contact's other events (and before a later contact_erased)."""

from __future__ import annotations

import functools

from sqlalchemy.orm import Session

from contacts.consent.store import ConsentRecord
from contacts.store import messaging
from crm.contacts.v1 import consent_pb2
from crm.events.v1 import privacy_pb2
from crm_platform.events import record_event
from crm_platform.protobuf import as_event_payload, timestamp

SOURCE = "contacts"
AGGREGATE = "contact"
CONSENT_CHANGED = "consent_changed"


@functools.cache  # a handful of names, asked eight times per contact overview
def enum_value(enum: object, prefix: str, name: str) -> int:
    return int(enum.Value(f"{prefix}_{name.upper()}"))  # type: ignore[attr-defined]


def to_message(record: ConsentRecord) -> consent_pb2.ConsentRecord:
    return consent_pb2.ConsentRecord(
        id=record.id,
        contact_id=record.contact_id,
        channel=enum_value(consent_pb2.ConsentChannel, "CONSENT_CHANNEL", record.channel),
        purpose=enum_value(consent_pb2.ConsentPurpose, "CONSENT_PURPOSE", record.purpose),
        status=enum_value(consent_pb2.ConsentStatus, "CONSENT_STATUS", record.status),
        source=record.source,
        occurred_at=timestamp(record.occurred_at),
        recorded_at=timestamp(record.recorded_at),
        actor_id=record.actor_id or "",
    )


def record_consent_changed(session: Session, record: ConsentRecord) -> str:
    message = to_message(record)
    return record_event(
        session,
        messaging,
        source=SOURCE,
        event_type=CONSENT_CHANGED,
        aggregate_type=AGGREGATE,
        aggregate_id=record.contact_id,
        payload=as_event_payload(
            privacy_pb2.ConsentChanged(
                contact_id=record.contact_id,
                record_id=record.id,
                channel=message.channel,
                purpose=message.purpose,
                status=message.status,
                source=record.source,
                occurred_at=message.occurred_at,
                actor_id=message.actor_id,
            )
        ),
    )
