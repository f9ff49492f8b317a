"""Notification scope on the real platform: contacts -> contact_created / contact_updated over RabbitMQ ->
the notifications worker -> read back through the customer-360 view (REST) and the notifications
service's own gRPC reads, as real signed-in users: a welcome is visible where its contact is, and follows
the contact when it is reassigned."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from crm_devrun.client import GatewayClient
from crm_devrun.probes import wait_until

from crm.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from crm_platform.testing.callers import caller, signed_context

PASSWORD = "notification-scope-password-1"


@dataclass
class Person:
    user_id: str
    role: str
    team_ids: tuple[str, ...]
    partner_account_id: str | None
    http: GatewayClient


@dataclass
class Cast:
    teams: dict[str, str]
    partners: dict[str, str]
    people: dict[str, Person]


def _created(reply: Any) -> dict[str, Any]:
    assert reply.status == 201, (reply.status, reply.body[:300])
    return reply.json()


@pytest.fixture(scope="module")
def cast(platform) -> Iterator[Cast]:
    """Teams A and B, partner accounts P1 and P2, a sales rep per team and a partner user per account,
    each signed in through /auth/token (names unique per run: the platform is shared by the session)."""
    admin = platform.client()
    run = secrets.token_hex(4)
    teams = {t: _created(admin.request("POST", "/api/v1/teams", {"name": f"N{t}-{run}"}))["id"] for t in "AB"}
    partners = {
        p: _created(
            admin.request("POST", "/api/v1/partner-accounts", {"name": f"N{p}-{run}", "kind": "reseller"})
        )["id"]
        for p in ("P1", "P2")
    }
    plan = {
        "rep_a": ("sales_rep", (teams["A"],), None),
        "rep_b": ("sales_rep", (teams["B"],), None),
        "partner_p1": ("partner", (), partners["P1"]),
        "partner_p2": ("partner", (), partners["P2"]),
    }
    people = {}
    for name, (role, team_ids, partner) in plan.items():
        email = f"{name.replace('_', '-')}-{run}@example.com"
        user = _created(
            admin.request(
                "POST",
                "/api/v1/users",
                {
                    "email": email,
                    "name": name,
                    "password": PASSWORD,
                    "roles": [role],
                    "team_ids": list(team_ids),
                    "partner_account_id": partner,
                },
            )
        )
        http = platform.client(login=False)
        http.login(email, PASSWORD)
        people[name] = Person(user["id"], role, team_ids, partner, http)
    yield Cast(teams, partners, people)
    admin.close()
    for person in people.values():
        person.http.close()


@pytest.fixture(scope="module")
def notifications_as(platform) -> Iterator[Any]:
    """Calls the notifications service directly over gRPC as a person (a context signed with the
    platform's caller key, as the gateway signs them)."""
    channel = grpc.insecure_channel(platform.config.grpc_addr("notifications"))
    stub = notifications_pb2_grpc.NotificationsServiceStub(channel)

    class As:
        def __init__(self, person: Person) -> None:
            context = caller(
                person.user_id,
                person.role,
                team_ids=person.team_ids,
                partner_account_id=person.partner_account_id,
            )
            self.metadata = (("x-crm-caller", signed_context(context, data_dir=platform.config.data_dir)),)

        def list(self, contact_id: str = "") -> list[notifications_pb2.Notification]:
            request = notifications_pb2.ListNotificationsRequest(contact_id=contact_id, limit=200)
            return list(stub.ListNotifications(request, metadata=self.metadata, timeout=5).items)

        def get(self, notification_id: str) -> notifications_pb2.Notification:
            request = notifications_pb2.GetNotificationRequest(id=notification_id)
            return stub.GetNotification(request, metadata=self.metadata, timeout=5)

    yield As
    channel.close()


def _welcomes(client: GatewayClient, contact_id: str) -> list[dict[str, Any]] | None:
    """The 360 view's notifications of the contact; None when the view is a 404 (contact out of scope)."""
    reply = client.customer_360(contact_id)
    if reply.status == 404:
        return None
    assert reply.status == 200, reply.body[:300]
    return reply.json()["notifications"]["items"]


def _new_contact(api: GatewayClient, **ownership: str) -> dict[str, Any]:
    email = f"notif-scope-{secrets.token_hex(6)}@example.com"
    contact = api.create_contact(first_name="Ada", last_name="Lovelace", email=email, **ownership)
    wait_until(lambda: _welcomes(api, contact["id"]), timeout=15, what="the welcome notification")
    return contact


def test_a_reassigned_contacts_welcome_follows_it(api: GatewayClient, cast: Cast, notifications_as) -> None:
    p1, p2 = cast.people["partner_p1"], cast.people["partner_p2"]
    rep_a, rep_b = cast.people["rep_a"], cast.people["rep_b"]
    contact = _new_contact(
        api, owner_id=rep_a.user_id, team_id=cast.teams["A"], partner_account_id=cast.partners["P1"]
    )
    [welcome] = _welcomes(api, contact["id"]) or []
    # The contact moves from P1 and team A to P2, team B and team B's rep: contact_updated names them.
    reply = api.request(
        "PATCH",
        f"/api/v1/contacts/{contact['id']}",
        {"partner_account_id": cast.partners["P2"], "team_id": cast.teams["B"], "owner_id": rep_b.user_id},
    )
    assert reply.status == 200, reply.body[:300]

    admin = notifications_as(Person("admin", "admin", (), None, api))  # every notification, no partner
    wait_until(
        lambda: admin.get(welcome["id"]).partner_account_id == cast.partners["P2"],
        timeout=15,
        what="the welcome re-pointed to P2",
    )
    got = admin.get(welcome["id"])
    assert (got.owner_id, got.team_id) == (rep_b.user_id, cast.teams["B"])

    # Through the 360 view: the new partner and team see the welcome; the old ones no longer see the contact.
    assert [n["id"] for n in _welcomes(p2.http, contact["id"]) or []] == [welcome["id"]]
    assert [n["id"] for n in _welcomes(rep_b.http, contact["id"]) or []] == [welcome["id"]]
    assert _welcomes(p1.http, contact["id"]) is None
    assert _welcomes(rep_a.http, contact["id"]) is None

    # Through the service's own reads: out of scope is NOT_FOUND on get, absent from lists.
    with pytest.raises(grpc.RpcError) as error:
        notifications_as(p1).get(welcome["id"])
    assert error.value.code() is grpc.StatusCode.NOT_FOUND
    assert notifications_as(p2).get(welcome["id"]).contact_id == contact["id"]
    assert welcome["id"] not in {n.id for n in notifications_as(p1).list()}
    assert welcome["id"] in {n.id for n in notifications_as(p2).list()}
    assert notifications_as(rep_a).list(contact["id"]) == []
    assert [n.id for n in notifications_as(rep_b).list(contact["id"])] == [welcome["id"]]


def test_partners_and_reps_list_only_their_contacts_notifications(
    api: GatewayClient, cast: Cast, notifications_as
) -> None:
    """Welcomes of contacts reassigned to P1 / P2 / team B: each partner user and rep lists only theirs."""
    p1, p2, rep_b = cast.people["partner_p1"], cast.people["partner_p2"], cast.people["rep_b"]
    targets = {
        "P1": {"partner_account_id": cast.partners["P1"], "owner_id": p1.user_id},
        "P2": {"partner_account_id": cast.partners["P2"], "owner_id": p2.user_id},
        "B": {"team_id": cast.teams["B"], "owner_id": rep_b.user_id},
    }
    contacts = {}
    for label, ownership in targets.items():
        contact = _new_contact(api)
        reply = api.request("PATCH", f"/api/v1/contacts/{contact['id']}", ownership)
        assert reply.status == 200, reply.body[:300]
        contacts[label] = contact["id"]

    def listed(person: Person) -> set[str]:
        return {n.contact_id for n in notifications_as(person).list()} & set(contacts.values())

    wait_until(lambda: listed(p1) == {contacts["P1"]}, timeout=15, what="P1's welcome re-pointed")
    wait_until(lambda: listed(p2) == {contacts["P2"]}, timeout=15, what="P2's welcome re-pointed")
    wait_until(lambda: listed(rep_b) == {contacts["B"]}, timeout=15, what="team B's welcome re-pointed")
    assert listed(cast.people["rep_a"]) == set()
    assert _welcomes(p1.http, contacts["P1"])
    assert _welcomes(p1.http, contacts["P2"]) is None


def test_a_partners_new_contact_is_welcomed_visibly_to_that_partner(api: GatewayClient, cast: Cast) -> None:
    p1 = cast.people["partner_p1"]
    contact = p1.http.create_contact(
        first_name="Grace", last_name="Hopper", email=f"notif-p1-{secrets.token_hex(6)}@example.com"
    )
    wait_until(lambda: _welcomes(api, contact["id"]), timeout=15, what="the welcome notification")
    assert _welcomes(p1.http, contact["id"]), "P1 does not see the welcome of its own new customer"


def test_a_merged_contacts_welcome_follows_the_survivor_and_its_id_redirects(
    api: GatewayClient, cast: Cast, notifications_as
) -> None:
    """POST :merge over HTTP (a dry run first), then GET on the merged id is a 308 to the survivor, and
    the merged contact's welcome is the survivor's, scoped like it (contact_merged over RabbitMQ)."""
    rep_a = cast.people["rep_a"]
    company = f"Analytical Engines {secrets.token_hex(3)}"  # same name, same company: a candidate
    survivor = _new_contact(api, company=company)
    merged = _new_contact(api, company=company, owner_id=rep_a.user_id, team_id=cast.teams["A"])
    [welcome] = _welcomes(api, merged["id"]) or []
    found = api.request("GET", f"/api/v1/contacts/{survivor['id']}/duplicates")
    assert found.status == 200 and merged["id"] in {d["contact"]["id"] for d in found.json()["items"]}
    merge = f"/api/v1/contacts/{survivor['id']}:merge"
    preview = api.request("POST", merge, {"source_ids": [merged["id"]], "dry_run": True})
    assert preview.status == 200 and preview.json()["dry_run"] is True, preview.body[:300]
    assert api.request("GET", f"/api/v1/contacts/{merged['id']}").status == 200  # nothing changed
    reply = api.request(
        "POST", merge, {"source_ids": [merged["id"]], "field_choices": {"email": merged["id"]}}
    )
    assert reply.status == 200, reply.body[:300]
    assert reply.json()["contact"]["email"] == merged["email"]

    moved = api.request("GET", f"/api/v1/contacts/{merged['id']}")
    assert moved.status == 308, moved.body[:300]
    assert moved.headers["location"] == f"/api/v1/contacts/{survivor['id']}"
    assert moved.json()["moved_to"] == {"type": "contact", "id": survivor["id"]}
    assert api.request("GET", moved.headers["location"]).json()["email"] == merged["email"]

    admin = notifications_as(Person("admin", "admin", (), None, api))
    wait_until(
        lambda: admin.get(welcome["id"]).contact_id == survivor["id"],
        timeout=15,
        what="the merged contact's welcome re-pointed to the survivor",
    )
    got = admin.get(welcome["id"])
    assert (got.owner_id, got.team_id or None) == (survivor["owner_id"], survivor["team_id"])
    assert welcome["id"] not in {n.id for n in notifications_as(rep_a).list()}
    assert welcome["id"] in {n["id"] for n in _welcomes(api, survivor["id"]) or []}
