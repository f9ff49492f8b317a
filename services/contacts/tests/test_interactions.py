"""Interactions and the timeline over real gRPC with signed callers, on SQLite and PostgreSQL: logging
under a readable contact only, scope (partner accounts), standard methods (list filter/order/paging,
update, delete, history), interaction_logged in the outbox, and the timeline fed through the one mapping
(in-transaction for interactions, the worker's handlers for contact and notification events)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import grpc
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import func, select, text

from contacts.interactions.store import Interaction
from contacts.main import DEFINITION
from contacts.store import Base, messaging
from contacts.timeline.store import TimelineEntry
from crm.contacts.v1 import (
    contacts_pb2,
    contacts_pb2_grpc,
    interactions_pb2,
    interactions_pb2_grpc,
    timeline_pb2,
    timeline_pb2_grpc,
)
from crm_platform import migrations
from crm_platform.access import (
    ACTIONS,
    CallerContext,
    CallerContextSigner,
    CallerContextVerifier,
    Level,
    builtin_rights,
)
from crm_platform.access.context import CallerContextCheck
from crm_platform.db import make_engine, transaction
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
        [sub] = [
            s for s in DEFINITION.subscriptions if (s.source_service, s.event_type) == (source, event_type)
        ]
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
            "owner_id": "rep-a",  # the notification's scope (the contact's), as the event carries it
            "team_id": "team-a",
        },
    )
    stubs.handle(
        "sales",
        "deal_won",
        {
            "deal_id": "d1",
            "contact_id": contact.id,
            "name": "Big deal",
            "owner_id": "rep-a",
            "team_id": "team-a",
        },
    )
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


# --- the timeline shows only entries about records the caller may read ---------------------------------

# A custom role: every contact, but no interaction read right at all.
NO_INTERACTIONS = CallerContext(
    subject="auditor",
    roles=("custom",),
    rights={**builtin_rights("read_only"), "interaction": {a: Level.NONE for a in ACTIONS}},
)


def _ids(stubs: Stubs, who: CallerContext, contact_id: str, **request: Any) -> list[str]:
    return [e.ref_id for e in stubs.timeline_page(who, contact_id, **request).items]


def _paged(stubs: Stubs, who: CallerContext, contact_id: str) -> list[str]:
    ids, cursor = [], ""
    while True:
        page = stubs.timeline_page(who, contact_id, limit=1, cursor=cursor)
        ids += [e.id for e in page.items]
        if not page.next_cursor:
            return ids
        cursor = page.next_cursor


def test_the_timeline_shows_only_entries_of_records_the_caller_may_read(stubs: Stubs) -> None:
    """Team B's rep reads team B's contact but not team A's interaction logged on it, and a role with no
    interaction read right reads none of them: their entries are not listed, not found by ref_id, not
    counted in pages; a notification entry is scoped by its own ownership (none stated: `all` readers)."""
    contact = stubs.contact(REP_B)
    theirs = stubs.log(REP_B, contact.id, subject="Ours", occurred_at=_at("2026-03-01T10:00:00Z"))
    hidden = stubs.log(
        ADMIN,
        contact.id,
        owner_id="rep-a",
        team_id="team-a",
        subject="Secret",
        summary="team A only",
        occurred_at=_at("2026-03-02T10:00:00Z"),
    )
    stubs.handle(
        "contacts", "contact_created", {"contact_id": contact.id, "created_at": "2026-02-01T09:00:00Z"}
    )
    note = {"contact_id": contact.id, "title": "Hi", "sent_at": "2026-02-02T09:00:00Z"}
    stubs.handle(
        "notifications", "notification_sent", {**note, "notification_id": "n-b", "team_id": "team-b"}
    )
    stubs.handle("notifications", "notification_sent", {**note, "notification_id": "n-none"})  # no scope

    everything = [contact.id, "n-none", "n-b", hidden.id, theirs.id]
    assert sorted(_ids(stubs, ADMIN, contact.id)) == sorted(everything)
    seen_by_b = _ids(stubs, REP_B, contact.id)
    assert sorted(seen_by_b) == sorted([contact.id, "n-b", theirs.id])
    assert _ids(stubs, REP_B, contact.id, filter=f'ref_id = "{hidden.id}"') == []
    assert _ids(stubs, REP_B, contact.id, filter='kind = "interaction"') == [theirs.id]
    text = str(stubs.timeline_page(REP_B, contact.id))
    assert hidden.id not in text and "Secret" not in text and "team A only" not in text
    assert len(_paged(stubs, REP_B, contact.id)) == 3  # pages count only what is seen
    by_type = {e.ref_id: e.resource_type for e in stubs.timeline_page(ADMIN, contact.id).items}
    assert by_type == {
        contact.id: "contact",
        "n-none": "notification",
        "n-b": "notification",
        hidden.id: "interaction",
        theirs.id: "interaction",
    }

    # No interaction read right: no interaction entry at all; the rest as read_only reads it.
    assert sorted(_ids(stubs, NO_INTERACTIONS, contact.id)) == sorted([contact.id, "n-none", "n-b"])
    assert _ids(stubs, NO_INTERACTIONS, contact.id, filter=f'ref_id = "{theirs.id}"') == []
    assert len(_paged(stubs, NO_INTERACTIONS, contact.id)) == 3

    # The interaction reassigned to team B: its entry follows in the same transaction.
    update = interactions_pb2.UpdateInteractionRequest(
        interaction=interactions_pb2.Interaction(id=hidden.id, contact_id=contact.id, team_id="team-b")
    )
    update.update_mask.paths.append("team_id")
    stubs.interactions.UpdateInteraction(update, metadata=stubs.md(ADMIN))
    assert _ids(stubs, REP_B, contact.id, filter=f'ref_id = "{hidden.id}"') == [hidden.id]
    # And away again (owner rep-a, team A): hidden again.
    update.interaction.team_id = "team-a"
    stubs.interactions.UpdateInteraction(update, metadata=stubs.md(ADMIN))
    assert _ids(stubs, REP_B, contact.id, filter=f'ref_id = "{hidden.id}"') == []


def test_a_partners_timeline_shows_their_accounts_entries_only(stubs: Stubs) -> None:
    contact = stubs.contact(PARTNER_1)
    mine = stubs.log(PARTNER_1, contact.id)
    by_admin = stubs.log(ADMIN, contact.id)  # the contact's partner account's too
    note = {"contact_id": contact.id, "title": "Hi", "sent_at": "2026-02-02T09:00:00Z"}
    stubs.handle(
        "notifications", "notification_sent", {**note, "notification_id": "n1", "partner_account_id": "p1"}
    )
    stubs.handle(
        "notifications", "notification_sent", {**note, "notification_id": "n2"}
    )  # no scope: staff only
    assert sorted(_ids(stubs, PARTNER_1, contact.id)) == sorted([mine.id, by_admin.id, "n1"])
    assert sorted(_ids(stubs, ADMIN, contact.id)) == sorted([mine.id, by_admin.id, "n1", "n2"])


def _contact_updated(stubs: Stubs, contact_id: str) -> dict[str, Any]:
    [payload] = [
        p
        for t, p in ((r.routing_key, json.loads(r.payload)) for r in _outbox(stubs))
        if t == "contact_updated" and p["contact_id"] == contact_id
    ][-1:]
    return payload


def _row(stubs: Stubs, query: Any) -> Any:
    with stubs.runtime.sessions() as session:
        return session.execute(query).one()


def test_a_contact_moved_to_another_partner_account_takes_its_interactions_and_entries(stubs: Stubs) -> None:
    """An interaction's partner account is always its contact's: contact_updated moving the contact (the
    worker's subscription) moves its interactions (a system update: version, history, event) and their
    entries, and the notification entries scoped like the contact; replayed, it changes nothing more."""
    contact = stubs.contact(ADMIN, partner_account_id="p1")
    live = stubs.log(ADMIN, contact.id, subject="Live")
    gone = stubs.log(ADMIN, contact.id, subject="Gone")
    stubs.interactions.DeleteInteraction(
        interactions_pb2.DeleteInteractionRequest(contact_id=contact.id, id=gone.id), metadata=stubs.md(ADMIN)
    )
    stubs.handle(
        "notifications",
        "notification_sent",
        {"notification_id": "n1", "contact_id": contact.id, "title": "Hi", "partner_account_id": "p1"},
    )
    assert sorted(_ids(stubs, PARTNER_1, contact.id)) == sorted([live.id, "n1"])

    update = contacts_pb2.UpdateContactRequest(
        contact=contacts_pb2.Contact(id=contact.id, partner_account_id="p2")
    )
    update.update_mask.paths.append("partner_account_id")
    stubs.contacts.UpdateContact(update, metadata=stubs.md(ADMIN))
    moved = _contact_updated(stubs, contact.id)
    stubs.handle("contacts", "contact_updated", moved)

    assert _code(lambda: stubs.timeline_page(PARTNER_1, contact.id)) is grpc.StatusCode.NOT_FOUND
    assert sorted(_ids(stubs, PARTNER_2, contact.id, filter='kind != "profile"')) == sorted([live.id, "n1"])
    got = stubs.interactions.GetInteraction(
        interactions_pb2.GetInteractionRequest(contact_id=contact.id, id=live.id),
        metadata=stubs.md(PARTNER_2),
    )
    assert got.partner_account_id == "p2" and got.etag != live.etag
    history = stubs.interactions.ListInteractionHistory(
        interactions_pb2.ListInteractionHistoryRequest(contact_id=contact.id, id=live.id),
        metadata=stubs.md(ADMIN),
    )
    assert [c.field for c in history.items[0].changes] == ["partner_account_id"]
    assert history.items[0].actor_id == ""  # the system's
    archived = _row(
        stubs,
        select(Interaction.partner_account_id, Interaction.archived_at).where(Interaction.id == gone.id),
    )
    assert archived.partner_account_id == "p2" and archived.archived_at is not None
    entries = _row(
        stubs,
        select(func.count())
        .select_from(TimelineEntry)
        .where(
            TimelineEntry.contact_id == contact.id,
            TimelineEntry.resource_type.in_(("interaction", "notification")),
            TimelineEntry.partner_account_id == "p2",
        ),
    )
    assert entries[0] == 2  # the live interaction's and the notification's; the deleted one has none
    updated = [
        p
        for t, p in ((r.routing_key, json.loads(r.payload)) for r in _outbox(stubs))
        if t == "interaction_updated"
    ]
    assert [(p["interaction"]["id"], p["changed_fields"]) for p in updated] == [
        (live.id, ["partner_account_id"])
    ]

    # Replayed (or late): nothing more changes.
    stubs.handle("contacts", "contact_updated", moved)
    again = stubs.interactions.GetInteraction(
        interactions_pb2.GetInteractionRequest(contact_id=contact.id, id=live.id), metadata=stubs.md(ADMIN)
    )
    assert again.etag == got.etag

    # Back to the company's own book (no partner account): the interactions follow to none.
    update.contact.partner_account_id = ""
    stubs.contacts.UpdateContact(update, metadata=stubs.md(ADMIN))
    stubs.handle("contacts", "contact_updated", _contact_updated(stubs, contact.id))
    assert _code(lambda: stubs.timeline_page(PARTNER_2, contact.id)) is grpc.StatusCode.NOT_FOUND
    back = stubs.interactions.GetInteraction(
        interactions_pb2.GetInteractionRequest(contact_id=contact.id, id=live.id), metadata=stubs.md(ADMIN)
    )
    assert back.partner_account_id == ""


def test_migration_0009_timeline_scope_backfills_entries_fail_closed(database_url: str) -> None:
    """Entries made before 0009: their resource type from their kind; interaction entries take their
    interaction's ownership; the others none (only `all` readers of their type see them)."""
    engine = make_engine(database_url)
    try:
        migrations.upgrade(engine, DEFINITION.migrations_dir, "0008")
        now = datetime(2026, 1, 1)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO interactions (id, contact_id, kind, occurred_at, version, created_at,"
                    " updated_at, owner_id, team_id, partner_account_id)"
                    " VALUES ('i1', 'c1', 'call', :now, 1, :now, :now, 'rep-a', 'team-a', 'p1')"
                ),
                {"now": now},
            )
            for entry_id, kind, ref_type, ref_id in (
                ("e1", "interaction", "interaction", "i1"),
                ("e2", "profile", "contact", "c1"),
                ("e3", "notification", "notification", "n1"),
                ("e4", "deal", None, None),
            ):
                conn.execute(
                    text(
                        "INSERT INTO timeline_entries (id, contact_id, occurred_at, kind, source, event_type,"
                        " title, ref_type, ref_id, details, event_id, recorded_at)"
                        " VALUES (:id, 'c1', :now, :kind, 's', 't', 'x', :ref_type, :ref_id, '{}', :id, :now)"
                    ),
                    {"id": entry_id, "now": now, "kind": kind, "ref_type": ref_type, "ref_id": ref_id},
                )
        migrations.upgrade(engine, DEFINITION.migrations_dir)
        query = text(
            "SELECT id, resource_type, owner_id, team_id, partner_account_id"
            " FROM timeline_entries ORDER BY id"
        )
        with engine.connect() as conn:
            assert [tuple(row) for row in conn.execute(query)] == [
                ("e1", "interaction", "rep-a", "team-a", "p1"),
                ("e2", "contact", None, None, None),
                ("e3", "notification", None, None, None),
                ("e4", "deal", None, None, None),
            ]
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diffs if "timeline_entries" in repr(d)] == []
    finally:
        engine.dispose()
