"""The identity flows whose SQL differs between backends (JSON role filter, keyset cursors over
timestamps, conditional updates, purges), on SQLite and PostgreSQL, through a real gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from gateway.identity.housekeeping import purge


def test_identity_flows(own_gateway, database_url: str) -> None:
    running = own_gateway(database_url=database_url, login_account_free_failures=2)
    admin = running.client()
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    crew = admin.post("/api/v1/teams", json={"name": "North"}).json()
    made = []
    for n, roles in enumerate((["sales_rep"], ["sales_rep", "marketer"], ["manager"])):
        reply = admin.post(
            "/api/v1/users",
            json={
                "email": f"u{n}@example.com",
                "password": "a-long-enough-password",
                "roles": roles,
                "team_ids": [crew["id"]],
            },
        )
        assert reply.status_code == 201, reply.text
        made.append(reply.json()["id"])
    sales = admin.get("/api/v1/users", params={"role": "sales_rep"}).json()["items"]
    assert sorted(u["id"] for u in sales) == sorted(made[:2])
    assert admin.get("/api/v1/users", params={"role": "sales"}).json()["items"] == []  # whole names only
    pages, cursor = [], None
    while True:
        page = admin.get(
            "/api/v1/users",
            params={"team_id": crew["id"], "limit": 1} | ({"cursor": cursor} if cursor else {}),
        ).json()
        pages += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == made

    login = requests.post(
        f"{running.url}/api/v1/auth/token",
        json={"email": "u0@example.com", "password": "a-long-enough-password"},
        timeout=10,
    )
    refresh = login.json()["refresh_token"]
    rotated = requests.post(f"{running.url}/api/v1/auth/refresh", json={"refresh_token": refresh}, timeout=10)
    assert rotated.status_code == 200
    reused = requests.post(f"{running.url}/api/v1/auth/refresh", json={"refresh_token": refresh}, timeout=10)
    assert reused.status_code == 401
    for _ in range(2):
        requests.post(
            f"{running.url}/api/v1/auth/token", json={"email": "u1@example.com", "password": "x"}, timeout=10
        )
    throttled = requests.post(
        f"{running.url}/api/v1/auth/token", json={"email": "u1@example.com", "password": "x"}, timeout=10
    )
    assert throttled.status_code == 429

    key = admin.post("/api/v1/api-keys", json={"name": "k", "scopes": ["contacts:read"]}).json()
    assert (
        requests.get(f"{running.url}/api/v1/me", headers={"X-API-Key": key["key"]}, timeout=10).status_code
        == 200
    )
    assert admin.get(f"/api/v1/api-keys/{key['id']}").json()["last_used_at"]

    events, cursor = [], None
    while True:
        page = admin.get(
            "/api/v1/audit-events",
            params={"since": since, "limit": 3} | ({"cursor": cursor} if cursor else {}),
        ).json()
        events += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    actions = [e["action"] for e in events]
    assert len({e["id"] for e in events}) == len(events)
    assert {
        "team.created",
        "user.created",
        "login.succeeded",
        "refresh_token.reused",
        "login.failed",
        "api_key.created",
    } <= set(actions)
    stamps = [e["occurred_at"] for e in events]
    assert stamps == sorted(stamps, reverse=True)
    purge(running.app.extensions["crm_gateway"].database.sessions, throttle_window_seconds=900)
    admin.http.close()
