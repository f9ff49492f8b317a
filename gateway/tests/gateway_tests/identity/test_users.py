"""/api/v1/users and /me over real HTTP: create, list with filters and cursors, read, change,
deactivate/reactivate, password reset and change, and who may do it."""

from __future__ import annotations

import time

import requests

from gateway.schema import User


def test_admin_creates_reads_and_lists_users(api, person, team) -> None:
    crew = team()
    email = api.new_email()
    reply = api.post(
        "/api/v1/users",
        json={
            "email": email.upper(),
            "name": "Grace",
            "password": "correct horse battery",
            "roles": ["sales_rep", "marketer"],
            "team_ids": [crew["id"]],
        },
    )
    assert reply.status_code == 201, reply.text
    created = reply.json()
    assert reply.headers["Location"] == f"/api/v1/users/{created['id']}"
    assert created["email"] == email and created["roles"] == ["sales_rep", "marketer"]
    assert created["team_ids"] == [crew["id"]] and created["primary_team_id"] == crew["id"]
    assert created["active"] is True and "password" not in created and "password_hash" not in created
    assert api.get(f"/api/v1/users/{created['id']}").json() == created

    by_email = api.get("/api/v1/users", params={"email": email}).json()
    assert [u["id"] for u in by_email["items"]] == [created["id"]]
    by_team = api.get("/api/v1/users", params={"team_id": crew["id"]}).json()
    assert [u["id"] for u in by_team["items"]] == [created["id"]]
    by_role = api.get("/api/v1/users", params={"role": "marketer", "limit": 200}).json()
    assert created["id"] in [u["id"] for u in by_role["items"]]
    assert all("marketer" in u["roles"] for u in by_role["items"])
    api.assert_problem(api.get("/api/v1/users", params={"colour": "red"}), 400)
    api.assert_problem(api.get(f"/api/v1/users/{'x' * 36}"), 404)


def test_user_list_pages_with_cursors_bound_to_caller_and_query(api, person) -> None:
    for _ in range(3):
        person()
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, "active": "true"} | ({"cursor": cursor} if cursor else {})
        page = api.get("/api/v1/users", params=params).json()
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 4
    first = api.get("/api/v1/users", params={"limit": 1, "active": "true"}).json()["next_cursor"]
    # The same cursor with another filter, or tampered with, is refused.
    api.assert_problem(api.get("/api/v1/users", params={"limit": 1, "active": "false", "cursor": first}), 400)
    api.assert_problem(api.get("/api/v1/users", params={"limit": 1, "cursor": first[:-2] + "xx"}), 400)


def test_a_cursor_minted_for_one_admin_is_useless_to_another(api, person) -> None:
    other_admin = person(roles=("admin",))
    person()
    cursor = api.get("/api/v1/users", params={"limit": 1}).json()["next_cursor"]
    other = other_admin.client.get("/api/v1/users", params={"limit": 1, "cursor": cursor})
    other_admin.client.assert_problem(other, 400)


def test_create_refuses_bad_input_by_name(api, partner_account) -> None:
    base = {"email": api.new_email(), "password": "a-long-enough-password"}
    cases = [
        ({**base, "roles": ["wizard"]}, 422, "roles"),
        ({**base, "password": "short"}, 422, "password"),
        ({**base, "email": "not-an-email"}, 422, "email"),
        ({**base, "team_ids": ["no-such-team"]}, 422, "team_ids"),
        ({**base, "partner_account_id": partner_account()["id"], "roles": ["manager"]}, 422, "roles"),
        ({**base, "roles": ["partner"]}, 422, "roles"),
        ({**base, "surprise": 1}, 422, "surprise"),
    ]
    for body, status, field in cases:
        problem = api.assert_problem(api.post("/api/v1/users", json=body), status)
        assert any(e["field"] == field for e in problem["errors"]), (field, problem)
    api.post("/api/v1/users", json=base)
    api.assert_problem(api.post("/api/v1/users", json={**base, "email": base["email"].upper()}), 409)


def test_patch_changes_only_what_is_present_and_is_audited(api, person, team) -> None:
    who = person()
    first, second = team(), team()
    reply = api.patch(
        f"/api/v1/users/{who.id}",
        json={"team_ids": [first["id"], second["id"]], "primary_team_id": second["id"], "name": "Renamed"},
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["team_ids"] == [first["id"], second["id"]] and body["primary_team_id"] == second["id"]
    assert body["name"] == "Renamed" and body["roles"] == ["sales_rep"] and body["email"] == who.email
    events = api.get("/api/v1/audit-events", params={"target_id": who.id, "action": "user.updated"}).json()
    assert events["items"][0]["details"]["team_ids"]["to"] == [first["id"], second["id"]]
    api.assert_problem(api.patch(f"/api/v1/users/{who.id}", json={"primary_team_id": "elsewhere"}), 422)


def test_non_admins_and_api_keys_cannot_manage_identity(api, person) -> None:
    rep = person(roles=("manager",))
    key = api.post("/api/v1/api-keys", json={"name": "sync", "scopes": ["contacts:write"]}).json()["key"]
    with_key = requests.Session()
    with_key.headers["X-API-Key"] = key
    for method, path, body in [
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/users", {"email": "x@example.com", "password": "a-long-enough-password"}),
        ("GET", f"/api/v1/users/{rep.id}", None),
        ("PATCH", f"/api/v1/users/{rep.id}", {"roles": ["admin"]}),
        ("POST", f"/api/v1/users/{rep.id}:deactivate", None),
        ("POST", f"/api/v1/users/{rep.id}:reset-password", {"new_password": "a-long-enough-password"}),
        ("POST", "/api/v1/api-keys", {"name": "mine", "scopes": ["contacts:read"]}),
        ("GET", "/api/v1/api-keys", None),
        ("GET", "/api/v1/teams", None),
        ("POST", "/api/v1/teams", {"name": "mine"}),
        ("POST", "/api/v1/roles", {"name": "mine", "permissions": {}}),
        ("GET", "/api/v1/audit-events", None),
        ("POST", "/api/v1/partner-accounts", {"name": "mine", "kind": "reseller"}),
    ]:
        rep.client.assert_problem(rep.client.request(method, path, json=body), 403)
        reply = with_key.request(method, f"{api.base_url}{path}", json=body, timeout=10)
        assert reply.status_code == 403, (path, reply.text)
    with_key.close()


def test_deactivation_stops_existing_tokens_within_5_seconds(api, person, gateway) -> None:
    who = person()
    assert who.client.get("/api/v1/me").status_code == 200
    reply = api.post(f"/api/v1/users/{who.id}:deactivate")
    assert reply.status_code == 200 and reply.json()["active"] is False
    started = time.monotonic()
    while who.client.get("/api/v1/me").status_code != 401:
        assert time.monotonic() - started < 5, "deactivation not effective within 5 s"
        time.sleep(0.1)
    # The refresh token died with it, and the password no longer signs in.
    refreshed = requests.post(
        f"{gateway.url}/api/v1/auth/refresh", json={"refresh_token": who.refresh_token}, timeout=10
    )
    assert refreshed.status_code == 401
    login = requests.post(
        f"{gateway.url}/api/v1/auth/token", json={"email": who.email, "password": who.password}, timeout=10
    )
    assert login.status_code == 401
    # Reactivated: may sign in again, but old tokens stay dead (the security version moved on).
    assert api.post(f"/api/v1/users/{who.id}:reactivate").json()["active"] is True
    assert who.client.get("/api/v1/me").status_code == 401
    again = requests.post(
        f"{gateway.url}/api/v1/auth/token", json={"email": who.email, "password": who.password}, timeout=10
    )
    assert again.status_code == 200


def test_deactivation_made_elsewhere_reaches_this_worker_within_5_seconds(api, person, gateway) -> None:
    """Written straight to the database, as another worker or replica would: only the cache TTL
    stands between the change and the refusal."""
    who = person()
    assert who.client.get("/api/v1/me").status_code == 200
    sessions = gateway.app.extensions["crm_gateway"].database.sessions
    with sessions.begin() as session:
        user = session.get(User, who.id)
        user.is_active = False
        user.security_version += 1
    started = time.monotonic()
    while who.client.get("/api/v1/me").status_code != 401:
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    print(f"\ndeactivation written elsewhere took effect after {elapsed:.2f} s")
    assert elapsed < 5


def test_reset_password_ends_sessions_and_sets_the_new_password(api, person, gateway) -> None:
    who = person()
    reply = api.post(f"/api/v1/users/{who.id}:reset-password", json={"new_password": "a-brand-new-password"})
    assert reply.status_code == 204
    who.client.assert_problem(who.client.get("/api/v1/me"), 401)
    old = requests.post(
        f"{gateway.url}/api/v1/auth/token", json={"email": who.email, "password": who.password}, timeout=10
    )
    assert old.status_code == 401
    new = requests.post(
        f"{gateway.url}/api/v1/auth/token",
        json={"email": who.email, "password": "a-brand-new-password"},
        timeout=10,
    )
    assert new.status_code == 200


def test_change_own_password_needs_the_current_one(person, gateway) -> None:
    who = person()
    wrong = who.client.post(
        "/api/v1/me:change-password",
        json={"current_password": "not-it", "new_password": "another-long-password"},
    )
    who.client.assert_problem(wrong, 401)
    short = who.client.post(
        "/api/v1/me:change-password", json={"current_password": who.password, "new_password": "short"}
    )
    who.client.assert_problem(short, 422)
    changed = who.client.post(
        "/api/v1/me:change-password",
        json={"current_password": who.password, "new_password": "another-long-password"},
    )
    assert changed.status_code == 200, changed.text
    # The old token is gone; the answer carries a fresh pair.
    who.client.assert_problem(who.client.get("/api/v1/me"), 401)
    fresh = gateway.client(changed.json()["access_token"])
    assert fresh.get("/api/v1/me").json()["id"] == who.id


def test_the_last_admin_cannot_lock_everyone_out(own_gateway) -> None:
    running = own_gateway()
    admin = running.client()
    admin_id = admin.get("/api/v1/me").json()["id"]
    admin.assert_problem(admin.post(f"/api/v1/users/{admin_id}:deactivate"), 409)
    admin.assert_problem(admin.patch(f"/api/v1/users/{admin_id}", json={"roles": ["manager"]}), 409)
    admin.http.close()


def test_an_admin_cannot_lock_themselves_out_even_with_another_admin_around(person) -> None:
    """Deactivating oneself, dropping one's own admin role and resetting one's own password (which ends
    one's sessions) are refused with 409 whoever else is admin; another admin may do each of them."""
    first, second = person(("admin",)), person(("admin",))
    me = first.client
    me.assert_problem(me.post(f"/api/v1/users/{first.id}:deactivate"), 409)
    me.assert_problem(me.patch(f"/api/v1/users/{first.id}", json={"roles": ["manager"]}), 409)
    me.assert_problem(me.patch(f"/api/v1/users/{first.id}", json={"active": False}), 409)
    reset = me.post(f"/api/v1/users/{first.id}:reset-password", json={"new_password": "a-new-long-password"})
    me.assert_problem(reset, 409)
    assert me.get("/api/v1/me").status_code == 200  # still signed in, still admin
    assert me.get("/api/v1/me").json()["roles"] == ["admin"]
    # Another admin may.
    other = second.client
    assert other.patch(f"/api/v1/users/{first.id}", json={"roles": ["manager"]}).status_code == 200
    assert other.post(f"/api/v1/users/{first.id}:deactivate").status_code == 200
