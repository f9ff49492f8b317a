"""Contacts created by a bulk import get no welcome unless the import asked for one; an import's new
contacts arrive together in `contacts_imported`, each welcomed as `contact_created` would welcome it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pika

from crm_platform.access import CallerContext
from crm_platform.db import transaction
from crm_platform.events import EventConsumer, wire
from crm_platform.events.wire import Event
from notifications import events
from notifications.events import is_quiet_import

from .conftest import Service, caller, contact_created, contact_updated, wait_for

ADMIN: CallerContext = caller("admin", "admin")
REP_B = caller("rep-b", "sales_rep", ("team-b",))
PARTNER_1 = caller("partner-1-user", "partner", (), "p1")


def event(**headers: object) -> Event:
    return Event(
        id="e1", type="contact_created", source="contacts", time=None, version=1, data={}, headers=headers
    )


def test_only_an_import_that_did_not_ask_for_welcomes_is_quiet() -> None:
    assert not is_quiet_import(event())
    assert is_quiet_import(event(**{"ce-crmorigin": "import", "ce-crmnotify": "false"}))
    assert is_quiet_import(event(**{"ce-crmorigin": b"import"}))
    assert not is_quiet_import(event(**{"ce-crmorigin": "import", "ce-crmnotify": "true"}))


# --- an import's new contacts in one contacts_imported -------------------------------------------------

IMPORT = {"ce-crmorigin": "import", "ce-crmimportjob": "job-1"}


def contacts_imported(contacts: dict[str, dict[str, Any]], *, notify: bool, event_id: str = "") -> Event:
    """A `contacts_imported` batch event as the contacts service records it (outbox.record_batch_event):
    an item per contact (its contact_created payload, sequence 1) and the import's headers."""
    return Event(
        id=event_id or str(uuid.uuid4()),
        type="contacts_imported",
        source="crm/contacts",
        time=None,
        version=1,
        data={
            "items": [
                {"id": str(uuid.uuid4()), "aggregate_id": contact_id, "sequence": 1, "data": data}
                for contact_id, data in contacts.items()
            ]
        },
        headers=_batch_headers(notify),
        aggregate_type="contact_batch",
        aggregate_id=str(uuid.uuid4()),
        sequence=1,
    )


def _batch_headers(notify: bool) -> dict[str, Any]:
    return {
        **IMPORT,
        "ce-crmnotify": "true" if notify else "false",
        wire.ITEM_AGGREGATE_TYPE_HEADER: "contact",
    }


def test_an_import_that_asked_for_welcomes_gives_each_new_contact_the_welcome_contact_created_gives(
    service: Service,
) -> None:
    rep = {"owner_id": "rep-a", "team_id": "team-a"}
    partner = {"owner_id": "partner-1-user", "partner_account_id": "p1"}
    single = contact_created("c-single", first_name="Grace", **rep)
    service.handle("contact_created", single)
    batch = contacts_imported(
        {
            "c-rep": contact_created("c-rep", first_name="Grace", **rep),
            "c-partner": contact_created("c-partner", **partner),
        },
        notify=True,
    )
    with transaction(service.runtime.sessions) as session:
        events.on_contacts_imported(session, batch)

    welcomes = {n.contact_id: n for n in service.list(ADMIN)}
    assert set(welcomes) == {"c-single", "c-rep", "c-partner"}

    def made(n: Any) -> tuple[str, ...]:
        return (n.kind, n.channel, n.title, n.body, n.owner_id, n.team_id, n.partner_account_id)

    assert made(welcomes["c-rep"]) == made(welcomes["c-single"])  # the same welcome, the same owners
    assert (welcomes["c-partner"].owner_id, welcomes["c-partner"].partner_account_id) == (
        "partner-1-user",
        "p1",
    )
    assert {n.contact_id for n in service.list(PARTNER_1)} == {"c-partner"}
    item_ids = {item["id"] for item in batch.data["items"]}
    assert {welcomes["c-rep"].source_event_id, welcomes["c-partner"].source_event_id} == item_ids


def test_a_quiet_import_gives_its_new_contacts_no_welcome(service: Service) -> None:
    batch = contacts_imported({"c-quiet": contact_created("c-quiet", owner_id="rep-a")}, notify=False)
    with transaction(service.runtime.sessions) as session:
        events.on_contacts_imported(session, batch)
    assert service.list(ADMIN) == []


def test_published_contacts_imported_welcomes_once_and_the_contacts_next_events_apply_at_once(
    service: Service, consumer: EventConsumer, publish: Callable[..., None], amqp_url: str
) -> None:
    """Over the real broker: the batch gives each contact its welcome once (a redelivery none more),
    and a contact's reassignment (its sequence 2) is applied at once, not after the gap timeout."""
    batch = contacts_imported(
        {c: contact_created(c, owner_id="rep-a", team_id="team-a") for c in ("c-1", "c-2")}, notify=True
    )
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        headers = wire.cloudevent_headers(
            event_id=batch.id,
            event_type=batch.type,
            service="contacts",
            time=datetime.now(UTC),
            version=1,
            aggregate_type="contact_batch",
            aggregate_id=str(batch.aggregate_id),
            sequence=1,
        )
        properties = wire.message_properties(batch.id, {**headers, **batch.headers})
        body = wire.encode_payload(batch.data).encode()
        for _copy in range(2):  # published, then redelivered
            channel.basic_publish("contacts.events", batch.type, body, properties, mandatory=True)
    finally:
        connection.close()
    wait_for(lambda: {n.contact_id for n in service.list(ADMIN)} == {"c-1", "c-2"}, what="two welcomes")

    started = time.monotonic()
    publish(
        "contact_updated",
        contact_updated("c-2", {"owner_id": ("rep-a", "rep-b"), "team_id": ("team-a", "team-b")}),
        2,
    )
    wait_for(lambda: {n.contact_id for n in service.list(REP_B)} == {"c-2"}, timeout=5, what="c-2 reassigned")
    assert time.monotonic() - started < 5  # the consumer's gap timeout is 10 s
    assert len(service.list(ADMIN)) == 2
