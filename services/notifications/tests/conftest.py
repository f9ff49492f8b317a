"""A real notifications gRPC server on a fresh database (SQLite, then PostgreSQL), callers signed with a
key pair of the test's own, and notifications stored the way the worker stores them (its handlers)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
import pika
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from google.protobuf import json_format, struct_pb2

from crm.common.v1 import history_pb2
from crm.events.v1 import contacts_pb2 as contact_events
from crm.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from crm_platform.access import CallerContext, CallerContextSigner, CallerContextVerifier, builtin_rights
from crm_platform.access.context import CallerContextCheck
from crm_platform.db import transaction
from crm_platform.events import EventConsumer, wire
from crm_platform.events.wire import Event
from crm_platform.grpc_server import GrpcServer
from crm_platform.protobuf import as_event_payload
from crm_platform.service import Runtime
from crm_platform.testing.migrated import open_migrated_runtime
from notifications import api, events
from notifications.main import DEFINITION


def caller(user: str, role: str, teams: tuple[str, ...] = (), partner: str | None = None) -> CallerContext:
    return CallerContext(
        subject=user,
        roles=(role,),
        team_ids=teams,
        primary_team_id=teams[0] if teams else None,
        partner_account_id=partner,
        rights=builtin_rights(role),
    )


def contact_created(contact_id: str, *, first_name: str = "Ada", **ownership: str | None) -> dict[str, Any]:
    """A `contact_created` payload as the contacts service writes it (its event message in the platform's
    JSON mapping), plus the contact's ownership fields given: owner_id, team_id, partner_account_id."""
    payload = as_event_payload(
        contact_events.ContactCreated(
            contact_id=contact_id, first_name=first_name, last_name="Lovelace", email=f"{contact_id}@x.test"
        )
    )
    return {**payload, **ownership}


def contact_updated(contact_id: str, changes: dict[str, tuple[str | None, str | None]]) -> dict[str, Any]:
    """A `contact_updated` payload as the contacts service writes it: `changes` field -> (old, new)."""

    def value(v: str | None) -> struct_pb2.Value:
        return json_format.ParseDict(v, struct_pb2.Value())

    return as_event_payload(
        contact_events.ContactUpdated(
            contact_id=contact_id,
            actor_id="admin",
            version=2,
            changed_fields=list(changes),
            changes=[
                history_pb2.FieldChange(field=name, old_value=value(old), new_value=value(new))
                for name, (old, new) in changes.items()
            ],
        )
    )


def event(event_type: str, data: dict[str, Any], sequence: int = 1) -> Event:
    return Event(
        id=str(uuid.uuid4()),
        type=event_type,
        source="crm/contacts",
        time=None,
        version=1,
        data=data,
        aggregate_type="contact",
        aggregate_id=data["contact_id"],
        sequence=sequence,
    )


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    runtime = open_migrated_runtime(DEFINITION, database_url)
    yield runtime
    runtime.engine.dispose()


@dataclass
class Service:
    """The notifications service as its callers and its worker meet it."""

    runtime: Runtime
    signer: CallerContextSigner
    stub: notifications_pb2_grpc.NotificationsServiceStub

    def handle(self, event_type: str, data: dict[str, Any], sequence: int = 1) -> None:
        """Apply an event as the worker does: its handler, in one transaction."""
        handler = {"contact_created": events.on_contact_created, "contact_updated": events.on_contact_updated}
        with transaction(self.runtime.sessions) as session:
            handler[event_type](session, event(event_type, data, sequence))

    def metadata(self, who: CallerContext) -> list[tuple[str, str]]:
        return [("x-crm-caller", self.signer.sign(who))]

    def list(
        self, who: CallerContext, contact_id: str = "", **request: Any
    ) -> list[notifications_pb2.Notification]:
        """Every notification `who` is shown, following the cursor."""
        found: list[notifications_pb2.Notification] = []
        cursor = request.pop("cursor", "")
        while True:
            reply = self.stub.ListNotifications(
                notifications_pb2.ListNotificationsRequest(contact_id=contact_id, cursor=cursor, **request),
                metadata=self.metadata(who),
                timeout=10,
            )
            found.extend(reply.items)
            cursor = reply.next_cursor
            if not cursor:
                return found

    def get(self, who: CallerContext, notification_id: str) -> notifications_pb2.Notification:
        return self.stub.GetNotification(
            notifications_pb2.GetNotificationRequest(id=notification_id),
            metadata=self.metadata(who),
            timeout=10,
        )


@pytest.fixture
def service(runtime: Runtime) -> Iterator[Service]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    check = CallerContextCheck(CallerContextVerifier({"test": public}))
    server = GrpcServer(
        "notifications", "127.0.0.1:0", lambda s: api.register(s, runtime), caller_check=check
    ).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield Service(
        runtime,
        CallerContextSigner(private, "test"),
        notifications_pb2_grpc.NotificationsServiceStub(channel),
    )
    channel.close()
    server.stop(0)


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def consumer(service: Service, amqp_url: str) -> Iterator[EventConsumer]:
    """The worker's consumer with the service's own subscriptions, running until the test ends."""
    consumer = EventConsumer(
        amqp_url,
        service.runtime.sessions,
        service.runtime.messaging,
        service="notifications",
        retry_delays=[0.1, 0.2],
        gap_timeout=10,
        gap_recheck_delay=0.1,
    )
    for sub in DEFINITION.subscriptions:
        consumer.subscribe(sub.source_service, sub.event_type, sub.handler, versions=sub.versions)
    thread = threading.Thread(target=consumer.run, name="notifications-consumer", daemon=True)
    thread.start()
    assert consumer.wait_until_ready(15), "consumer did not get ready"
    yield consumer
    consumer.stop()
    thread.join(15)


@pytest.fixture
def publish(amqp_url: str) -> Iterator[Callable[[str, dict[str, Any], int], None]]:
    """Publish a contacts event as the contacts relay does (wire format, aggregate and sequence)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()
    exchange = wire.exchange_name("contacts")
    wire.declare_exchange(channel, exchange)

    def send(event_type: str, payload: dict[str, Any], sequence: int) -> None:
        event_id = str(uuid.uuid4())
        headers = wire.cloudevent_headers(
            event_id=event_id,
            event_type=event_type,
            service="contacts",
            time=datetime.now(UTC),
            version=1,
            aggregate_type="contact",
            aggregate_id=payload["contact_id"],
            sequence=sequence,
        )
        body = wire.encode_payload(payload).encode()
        channel.basic_publish(
            exchange, event_type, body, wire.message_properties(event_id, headers), mandatory=True
        )

    yield send
    connection.close()
