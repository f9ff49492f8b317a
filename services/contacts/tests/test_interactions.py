"""Interactions and the timeline over real gRPC with signed callers, on SQLite and PostgreSQL: logging
under a readable contact only, scope (partner accounts), standard methods (list filter/order/paging,
update, delete, history), interaction_logged in the outbox, and the timeline fed through the one mapping
(in-transaction for interactions, the worker's handlers for contact and notification events)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from contacts.main import DEFINITION
from contacts.store import messaging
from contacts.timeline.events import SUBSCRIPTIONS
from crm.contacts.v1 import (
    contacts_pb2,
    contacts_pb2_grpc,
    interactions_pb2,
    interactions_pb2_grpc,
    timeline_pb2,
    timeline_pb2_grpc,
)
from crm_platform.access import CallerContext, CallerContextSigner, CallerContextVerifier, builtin_rights
from crm_platform.access.context import CallerContextCheck
from crm_platform.db import transaction
from crm_platform.events.wire import Event
from crm_platform.grpc_server import GrpcServer
from crm_platform.service import Runtime


def _caller(user: str, role: str, teams: tuple[str, ...] = (), partner: str | None = None) -> CallerContext:
    return CallerContext(
        subject=user,
        roles=(role,),
        team_ids=teams,
        primary_team_id=teams[0] if teams else None,
        partner_account_id=partner,
        rights=builtin_rights(role),
    )


ADMIN = _caller("admin", "admin")
REP_A = _caller("rep-a", "sales_rep", ("team-a",))
REP_B = _caller("rep-b", "sales_rep", ("team-b",))
PARTNER_1 = _caller("partner-1-user", "partner", (), "p1")
PARTNER_2 = _caller("partner-2-user", "partner", (), "p2")

CALL = interactions_pb2.INTERACTION_KIND_CALL
EMAIL = interactions_pb2.INTERACTION_KIND_EMAIL
OUTBOUND = interactions_pb2.INTERACTION_DIRECTION_OUTBOUND


@dataclass
class Stubs:
    signer: CallerContextSigner
    contacts: contacts_pb2_grpc.ContactsServiceStub
    interactions: interactions_pb2_grpc.InteractionsServiceStub
    timeline: timeline_pb2_grpc.TimelineServiceStub
    runtime: Runtime

    def md(self, who: CallerContext) -> list[tuple[str, str]]:
        return [("x-crm-caller", self.signer.sign(who))]

    def contact(self, who: CallerContext, **extra: str) -> contacts_pb2.Contact:
        request = contacts_pb2.CreateContactRequest(
            first_name="Ada", last_name="Lovelace", email=f"{uuid.uuid4().hex[:10]}@example.com", **extra
        )
        return self.contacts.CreateContact(request, metadata=self.md(who), timeout=10)

    def log(self, who: CallerContext, contact_id: str, **fields: Any) -> interactions_pb2.Interaction:
        request = interactions_pb2.CreateInteractionRequest(contact_id=contact_id, **{"kind": CALL, **fields})
        return self.interactions.CreateInteraction(request, metadata=self.md(who), timeout=10)

    def list(
        self, who: CallerContext, contact_id: str, **request: Any
    ) -> interactions_pb2.ListInteractionsResponse:
        return self.interactions.ListInteractions(
            interactions_pb2.ListInteractionsRequest(contact_id=contact_id, **request),
            metadata=self.md(who),
            timeout=10,
        )

    def timeline_page(
        self, who: CallerContext, contact_id: str, **request: Any
    ) -> timeline_pb2.ListTimelineEntriesResponse:
        return self.timeline.ListTimelineEntries(
            timeline_pb2.ListTimelineEntriesRequest(contact_id=contact_id, **request),
            metadata=self.md(who),
            timeout=10,
        )

    def handle(self, source: str, event_type: str, data: dict[str, Any], event_id: str = "") -> None:
        """Apply a consumed event as the worker does: its subscription's handler, in one transaction."""
        [sub] = [s for s in SUBSCRIPTIONS if (s.source_service, s.event_type) == (source, event_type)]
        event = Event(
            id=event_id or str(uuid.uuid4()),
            type=event_type,
            source=f"crm/{source}",
            time=None,
            version=1,
            data=data,
        )
        with transaction(self.runtime.sessions) as session:
            sub.handler(session, event)


@pytest.fixture
def stubs(runtime: Runtime) -> Iterator[Stubs]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    check = CallerContextCheck(CallerContextVerifier({"test": public}))
    server = GrpcServer(
        "contacts", "127.0.0.1:0", lambda s: DEFINITION.register_grpc(s, runtime), caller_check=check
    ).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield Stubs(
        CallerContextSigner(private, "test"),
        contacts_pb2_grpc.ContactsServiceStub(channel),
        interactions_pb2_grpc.InteractionsServiceStub(channel),
        timeline_pb2_grpc.TimelineServiceStub(channel),
        runtime,
    )
    channel.close()
    server.stop(0)


def _code(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as error:
        call()
    return error.value.code()


def _at(text: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromJsonString(text)
    return stamp


def test_log_an_interaction_get_list_update_delete_history(stubs: Stubs) -> None:
    contact = stubs.contact(REP_A)
    logged = stubs.log(
        REP_A,
        contact.id,
        direction=OUTBOUND,
        channel="phone",
        occurred_at=_at("2026-03-01T10:00:00Z"),
        duration_seconds=300,
        subject="Renewal",
        summary="Talked about the renewal",
        outcome="meeting booked",
        deal_id="deal-1",
    )
    assert (logged.contact_id, logged.kind, logged.owner_id, logged.team_id) == (
        contact.id,
        CALL,
        "rep-a",
        "team-a",
    )
    assert logged.actor_id == "rep-a" and logged.partner_account_id == "" and logged.etag
    got = stubs.interactions.GetInteraction(
        interactions_pb2.GetInteractionRequest(contact_id=contact.id, id=logged.id), metadata=stubs.md(REP_A)
    )
    assert got == logged
    # Named under another contact: not found.
    other = stubs.contact(REP_A)
    assert (
        _code(
            lambda: stubs.interactions.GetInteraction(
                interactions_pb2.GetInteractionRequest(contact_id=other.id, id=logged.id),
                metadata=stubs.md(REP_A),
            )
        )
        is grpc.StatusCode.NOT_FOUND
    )

    later = stubs.log(REP_A, contact.id, kind=EMAIL, occurred_at=_at("2026-03-02T10:00:00Z"))
    stubs.log(REP_A, contact.id, occurred_at=_at("2026-02-01T10:00:00Z"))
    stubs.log(REP_A, other.id)
    # Newest first by default; paging by 2; filter by kind and time.
    first = stubs.list(REP_A, contact.id, limit=2)
    assert [i.id for i in first.items][:2] == [later.id, logged.id] and first.next_cursor
    rest = stubs.list(REP_A, contact.id, limit=2, cursor=first.next_cursor)
    assert len(rest.items) == 1 and not rest.next_cursor
    assert [i.id for i in stubs.list(REP_A, contact.id, filter='kind = "email"').items] == [later.id]
    window = 'occurred_at >= "2026-03-01T00:00:00Z" AND direction = "outbound"'
    assert [i.id for i in stubs.list(REP_A, contact.id, filter=window).items] == [logged.id]
    oldest_first = stubs.list(REP_A, contact.id, order_by="occurred_at")
    assert oldest_first.items[-1].id == later.id
    # A cursor is bound to its contact.
    assert _code(lambda: stubs.list(REP_A, other.id, limit=2, cursor=first.next_cursor)) is (
        grpc.StatusCode.INVALID_ARGUMENT
    )

    update = interactions_pb2.UpdateInteractionRequest(
        interaction=interactions_pb2.Interaction(
            id=logged.id, contact_id=contact.id, outcome="deal closed", etag=logged.etag
        )
    )
    update.update_mask.paths.append("outcome")
    changed = stubs.interactions.UpdateInteraction(update, metadata=stubs.md(REP_A))
    assert changed.outcome == "deal closed" and changed.etag != logged.etag
    stale = _code(lambda: stubs.interactions.UpdateInteraction(update, metadata=stubs.md(REP_A)))
    assert stale is grpc.StatusCode.FAILED_PRECONDITION

    stubs.interactions.DeleteInteraction(
        interactions_pb2.DeleteInteractionRequest(contact_id=contact.id, id=later.id),
        metadata=stubs.md(REP_A),
    )
    assert later.id not in {i.id for i in stubs.list(REP_A, contact.id).items}
    history = stubs.interactions.ListInteractionHistory(
        interactions_pb2.ListInteractionHistoryRequest(contact_id=contact.id, id=logged.id),
        metadata=stubs.md(REP_A),
    )
    assert [e.action for e in history.items] == [2, 1]  # updated, created (newest first)

    events = [(row.routing_key, json.loads(row.payload)) for row in _outbox(stubs)]
    logged_events = [p for t, p in events if t == "interaction_logged"]
    assert logged_events[0]["interaction"]["id"] == logged.id
    assert logged_events[0]["interaction"]["kind"] == "call" and logged_events[0]["actor_id"] == "rep-a"
    assert {t for t, _ in events} >= {"interaction_logged", "interaction_updated", "interaction_archived"}


def _outbox(stubs: Stubs) -> list[Any]:
    with stubs.runtime.engine.connect() as conn:
        return conn.execute(select(messaging.outbox).order_by(messaging.outbox.c.created_at)).all()


def test_only_on_a_contact_the_caller_may_read_and_partners_on_their_own(stubs: Stubs) -> None:
    p1_contact = stubs.contact(PARTNER_1)
    rep_contact = stubs.contact(REP_A)
    # Out of scope or missing: NOT_FOUND alike.
    assert _code(lambda: stubs.log(PARTNER_2, p1_contact.id)) is grpc.StatusCode.NOT_FOUND
    assert _code(lambda: stubs.log(PARTNER_1, rep_contact.id)) is grpc.StatusCode.NOT_FOUND
    assert _code(lambda: stubs.log(REP_B, rep_contact.id)) is grpc.StatusCode.NOT_FOUND
    assert _code(lambda: stubs.log(REP_A, "no-such-contact")) is grpc.StatusCode.NOT_FOUND
    mine = stubs.log(PARTNER_1, p1_contact.id)
    assert (mine.partner_account_id, mine.owner_id) == ("p1", "partner-1-user")
    # Staff logging on a partner's customer: the interaction is the partner's too.
    by_admin = stubs.log(ADMIN, p1_contact.id)
    assert by_admin.partner_account_id == "p1"
    assert _code(lambda: stubs.log(ADMIN, p1_contact.id, partner_account_id="p2")) is (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    assert {i.id for i in stubs.list(PARTNER_1, p1_contact.id).items} == {mine.id, by_admin.id}
    assert _code(lambda: stubs.list(PARTNER_2, p1_contact.id)) is grpc.StatusCode.NOT_FOUND
    get = interactions_pb2.GetInteractionRequest(contact_id=p1_contact.id, id=mine.id)
    assert _code(lambda: stubs.interactions.GetInteraction(get, metadata=stubs.md(PARTNER_2))) is (
        grpc.StatusCode.NOT_FOUND
    )
    assert _code(lambda: stubs.timeline_page(PARTNER_2, p1_contact.id)) is grpc.StatusCode.NOT_FOUND
    assert _code(lambda: stubs.timeline_page(REP_B, rep_contact.id)) is grpc.StatusCode.NOT_FOUND


def test_the_timeline_streams_interactions_profile_and_other_services(stubs: Stubs) -> None:
    contact = stubs.contact(REP_A)
    call = stubs.log(
        REP_A, contact.id, direction=OUTBOUND, subject="Intro", occurred_at=_at("2026-03-01T10:00:00Z")
    )
    # The interaction is on the timeline as soon as it is logged (same transaction).
    [entry] = stubs.timeline_page(REP_A, contact.id).items
    assert (entry.kind, entry.source, entry.event_type, entry.ref_type, entry.ref_id) == (
        "interaction",
        "contacts",
        "interaction_logged",
        "interaction",
        call.id,
    )
    assert entry.title == "Call (outbound): Intro" and entry.details["direction"] == "outbound"

    # Events the worker consumes, through the same mapping.
    created = {
        "contact_id": contact.id,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": contact.email,
        "created_at": "2026-02-01T09:00:00Z",
        "actor_id": "rep-a",
    }
    stubs.handle("contacts", "contact_created", created, event_id="e-created")
    stubs.handle("contacts", "contact_created", created, event_id="e-created")  # replayed: once
    stubs.handle(
        "contacts",
        "contact_updated",
        {
            "contact_id": contact.id,
            "changed_fields": ["phone", "company"],
            "updated_at": "2026-03-05T09:00:00Z",
        },
    )
    stubs.handle(
        "notifications",
        "notification_sent",
        {
            "notification_id": "n1",
            "contact_id": contact.id,
            "kind": "welcome",
            "title": "Welcome Ada",
            "sent_at": "2026-02-01T09:00:01Z",
        },
    )
    stubs.handle("sales", "deal_won", {"deal_id": "d1", "contact_id": contact.id, "name": "Big deal"})
    stubs.handle("sales", "order_placed", {"order_id": "o1", "number": "42"})  # names no contact: skipped

    everything = stubs.timeline_page(REP_A, contact.id).items
    assert [(e.kind, e.event_type) for e in everything] == [
        ("deal", "deal_won"),  # no time in the payload: when it was applied (now)
        ("profile", "contact_updated"),
        ("interaction", "interaction_logged"),
        ("notification", "notification_sent"),
        ("profile", "contact_created"),
    ]
    assert everything[1].summary == "Changed: phone, company"
    assert everything[3].title == "Notification: Welcome Ada"
    # Paged newest first, and filtered.
    page = stubs.timeline_page(REP_A, contact.id, limit=2)
    assert [e.id for e in page.items] == [e.id for e in everything[:2]] and page.next_cursor
    page2 = stubs.timeline_page(REP_A, contact.id, limit=2, cursor=page.next_cursor)
    assert [e.id for e in page2.items] == [e.id for e in everything[2:4]]
    profile = stubs.timeline_page(REP_A, contact.id, filter='kind = "profile"').items
    assert [e.event_type for e in profile] == ["contact_updated", "contact_created"]
    window = stubs.timeline_page(
        REP_A, contact.id, filter='source = "contacts" AND occurred_at < "2026-03-02T00:00:00Z"'
    ).items
    assert [e.event_type for e in window] == ["interaction_logged", "contact_created"]

    # An interaction updated or deleted: its entry follows.
    update = interactions_pb2.UpdateInteractionRequest(
        interaction=interactions_pb2.Interaction(id=call.id, contact_id=contact.id, subject="Intro call")
    )
    update.update_mask.paths.append("subject")
    stubs.interactions.UpdateInteraction(update, metadata=stubs.md(REP_A))
    [entry] = stubs.timeline_page(REP_A, contact.id, filter='kind = "interaction"').items
    assert entry.title == "Call (outbound): Intro call" and entry.event_type == "interaction_updated"
    stubs.interactions.DeleteInteraction(
        interactions_pb2.DeleteInteractionRequest(contact_id=contact.id, id=call.id), metadata=stubs.md(REP_A)
    )
    assert stubs.timeline_page(REP_A, contact.id, filter='kind = "interaction"').items == []


def test_the_worker_subscribes_to_every_mapped_source() -> None:
    assert DEFINITION.sources == ["contacts", "marketing", "notifications", "sales", "support"]
    subscribed = {(s.source_service, s.event_type) for s in DEFINITION.subscriptions}
    assert ("contacts", "contact_created") in subscribed and (
        "notifications",
        "notification_sent",
    ) in subscribed
    assert ("contacts", "interaction_logged") not in subscribed  # written in its own transaction
