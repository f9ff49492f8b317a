"""Input that must end as a 4xx, never a 500 or a database error; client addresses behind proxies;
housekeeping of expired rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import func, select

from gateway.identity.housekeeping import purge
from gateway.schema import AuditEvent, LoginThrottle, RefreshToken


def test_control_characters_and_oversized_ids_are_client_errors(api) -> None:
    assert api.get("/api/v1/users/abc%00def").status_code == 404
    assert api.get(f"/api/v1/teams/{'x' * 65}").status_code == 404
    api.assert_problem(api.get("/api/v1/users", params={"email": "a\x00b@example.com"}), 400)
    api.assert_problem(api.get("/api/v1/audit-events", params={"action": "x" * 600}), 400)
    api.assert_problem(api.post("/api/v1/teams", json={"name": "bad\x00name"}), 422)
    api.assert_problem(api.post("/api/v1/teams", json={"name": "ok", "member_ids": ["id\x00"]}), 422)
    api.assert_problem(
        api.post(
            "/api/v1/users",
            json={
                "email": "x@example.com",
                "password": "a-long-enough-password",
                "team_ids": ["a'; DROP TABLE users; --"],
            },
        ),
        422,
    )
    refresh = requests.post(
        f"{api.base_url}/api/v1/auth/refresh", json={"refresh_token": "a\x00.b"}, timeout=10
    )
    assert refresh.status_code == 422
    tampered = api.get("/api/v1/users", params={"cursor": "bm90LWEtbGlzdA.0000"})
    api.assert_problem(tampered, 400)
    api.assert_problem(api.get("/api/v1/users", params={"cursor": "e30.é"}), 400)
    api.assert_problem(api.get("/api/v1/partner-accounts", params={"kind": "ÿ"}), 400)  # non-ASCII signature
    # Offsets that push a date out of years 1-9999 are the client's error, not an overflow in the server.
    api.assert_problem(api.get("/api/v1/audit-events", params={"since": "0001-01-01T00:00:00+01:00"}), 400)
    edge = api.post(
        "/api/v1/api-keys",
        json={"name": "x", "scopes": ["sales:read"], "expires_at": "9999-12-31T23:59:59-01:00"},
    )
    api.assert_problem(edge, 422)


def test_client_address_comes_from_trusted_proxies_only(own_gateway) -> None:
    running = own_gateway(trusted_proxy_hops=1)
    for forwarded in ("203.0.113.9", "198.51.100.1, 203.0.113.9"):
        requests.post(
            f"{running.url}/api/v1/auth/token",
            json={"email": "x@example.com", "password": "nope"},
            headers={"X-Forwarded-For": forwarded},
            timeout=10,
        )
    with running.app.extensions["crm_gateway"].database.sessions() as session:
        addresses = set(
            session.scalars(select(AuditEvent.client_address).where(AuditEvent.action == "login.failed"))
        )
        keys = set(session.scalars(select(LoginThrottle.key)))
    # The client-written left part is ignored: both failures count against the same address.
    assert addresses == {"203.0.113.9"} and "addr:203.0.113.9" in keys


def test_purge_deletes_only_expired_rows(own_gateway) -> None:
    running = own_gateway()
    sessions = running.app.extensions["crm_gateway"].database.sessions
    running.token(password=running.admin_password, email="admin@example.com")  # one live refresh token
    old = datetime.now(UTC) - timedelta(days=1)
    with sessions.begin() as session:
        user_id = session.scalar(select(RefreshToken.user_id))
        session.add(
            RefreshToken(
                id="old",
                family_id="f",
                user_id=user_id,
                secret_hash="0" * 64,
                created_at=old,
                expires_at=old + timedelta(hours=1),
            )
        )
        session.add(LoginThrottle(key="acct:old", failures=9, first_failure_at=old, last_failure_at=old))
        session.add(
            LoginThrottle(
                key="acct:new",
                failures=1,
                first_failure_at=datetime.now(UTC),
                last_failure_at=datetime.now(UTC),
            )
        )
    purge(sessions, throttle_window_seconds=900)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(RefreshToken)) == 1
        assert set(session.scalars(select(LoginThrottle.key))) == {"acct:new"}
