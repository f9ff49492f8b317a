"""Interactions and the customer timeline on the real platform, through the gateway over HTTP: log a
call under a contact, see it and the contact's creation in the timeline (the creation via contacts.events
and the contacts worker), page and filter it, and another partner account's user gets 404 for all of it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from crm_devrun.client import GatewayClient
from crm_devrun.probes import wait_until

PASSWORD = "timeline-e2e-password-1"


def _created(reply: Any) -> dict[str, Any]:
    assert reply.status == 201, (reply.status, reply.body[:300])
    return reply.json()


@pytest.fixture(scope="module")
def partners(platform) -> Iterator[dict[str, GatewayClient]]:
    """A partner user of each of two partner accounts, signed in (names unique per run)."""
    admin = platform.client()
    run = secrets.token_hex(4)
    clients = {}
    for label in ("P1", "P2"):
        account = _created(
            admin.request("POST", "/api/v1/partner-accounts", {"name": f"T{label}-{run}", "kind": "reseller"})
        )
        email = f"timeline-{label.lower()}-{run}@example.com"
        _created(
            admin.request(
                "POST",
                "/api/v1/users",
                {
                    "email": email,
                    "name": f"timeline {label}",
                    "password": PASSWORD,
                    "roles": ["partner"],
                    "team_ids": [],
                    "partner_account_id": account["id"],
                },
            )
        )
        client = platform.client(login=False)
        client.login(email, PASSWORD)
        clients[label] = client
    yield clients
    admin.close()
    for client in clients.values():
        client.close()


def _timeline(client: GatewayClient, contact_id: str, query: str = "") -> Any:
    return client.request("GET", f"/api/v1/contacts/{contact_id}/timeline{query}")


def _kinds(client: GatewayClient, contact_id: str) -> list[tuple[str, str]]:
    reply = _timeline(client, contact_id, "?limit=200")
    assert reply.status == 200, reply.body[:300]
    return [(e["kind"], e["event_type"]) for e in reply.json()["items"]]


def test_log_a_call_and_see_the_timeline(api: GatewayClient, partners: dict[str, GatewayClient]) -> None:
    p1, p2 = partners["P1"], partners["P2"]
    contact = p1.create_contact(
        first_name="Ada", last_name="Lovelace", email=f"timeline-{secrets.token_hex(6)}@example.com"
    )
    path = f"/api/v1/contacts/{contact['id']}/interactions"
    call = _created(
        p1.request(
            "POST",
            path,
            {
                "kind": "call",
                "direction": "outbound",
                "channel": "phone",
                "occurred_at": "2026-03-01T10:00:00Z",
                "duration_seconds": 240,
                "subject": "Renewal",
                "summary": "Talked about the renewal",
            },
        )
    )
    assert (call["kind"], call["direction"], call["partner_account_id"]) == (
        "call",
        "outbound",
        contact["partner_account_id"],
    )
    got = p1.request("GET", f"{path}/{call['id']}")
    assert got.status == 200 and got.json()["subject"] == "Renewal" and got.headers.get("etag")
    listed = p1.request("GET", f"{path}?filter=kind%20%3D%20%22call%22")
    assert listed.status == 200 and [i["id"] for i in listed.json()["items"]] == [call["id"]]

    # The call at once (same transaction); the contact's creation once the worker has it.
    wait_until(
        lambda: ("profile", "contact_created") in _kinds(p1, contact["id"]),
        timeout=20,
        what="the contact's creation on the timeline",
    )
    entries = _timeline(p1, contact["id"]).json()["items"]
    call_entry = next(e for e in entries if e["event_type"] == "interaction_logged")
    assert call_entry["ref_id"] == call["id"] and call_entry["title"] == "Call (outbound): Renewal"
    assert entries == sorted(entries, key=lambda e: e["occurred_at"], reverse=True)

    # Paging: one entry per page, newest first, every entry once.
    seen, cursor = [], ""
    for _ in range(10):
        reply = _timeline(p1, contact["id"], f"?limit=1{'&cursor=' + cursor if cursor else ''}")
        assert reply.status == 200, reply.body[:300]
        body = reply.json()
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"] or ""
        if not cursor:
            break
    assert seen == [e["id"] for e in entries]
    # Filtering.
    only_calls = _timeline(p1, contact["id"], "?filter=kind%20%3D%20%22interaction%22").json()["items"]
    assert [e["ref_id"] for e in only_calls] == [call["id"]]
    bad = _timeline(p1, contact["id"], "?filter=nope%20%3D%201")
    assert bad.status == 400

    # Another partner account's user: 404 for the timeline, the interactions and the call.
    for target in (f"/api/v1/contacts/{contact['id']}/timeline", path, f"{path}/{call['id']}"):
        assert p2.request("GET", target).status == 404, target
    refused = p2.request("POST", path, {"kind": "note", "summary": "sneaky"})
    assert refused.status == 404
    # An admin sees it all.
    assert _timeline(api, contact["id"]).status == 200


def test_the_welcome_notification_is_on_the_timeline(api: GatewayClient) -> None:
    contact = api.create_contact(
        first_name="Ada", last_name="Lovelace", email=f"timeline-w-{secrets.token_hex(6)}@example.com"
    )
    wait_until(
        lambda: ("profile", "contact_created") in _kinds(api, contact["id"]),
        timeout=20,
        what="the contact's creation on the timeline",
    )
    wait_until(
        lambda: ("notification", "notification_sent") in _kinds(api, contact["id"]),
        timeout=10,
        what="the welcome notification on the timeline",
    )
