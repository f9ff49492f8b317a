"""Teams, roles (built-in and custom), partner accounts and /me: over real HTTP."""

from __future__ import annotations

import time

from crm_platform.access.rights import resource_types


def test_teams_members_and_primary_team(api, person, team) -> None:
    alice, bob = person(), person()
    crew = team([alice.id])
    assert crew["member_ids"] == [alice.id]
    listed = api.get("/api/v1/teams", params={"name": crew["name"]}).json()["items"]
    assert [t["id"] for t in listed] == [crew["id"]]
    added = api.post(f"/api/v1/teams/{crew['id']}:add-members", json={"user_ids": [bob.id, alice.id]})
    assert added.status_code == 200 and added.json()["member_ids"] == [alice.id, bob.id]
    second = team([alice.id])
    assert api.get(f"/api/v1/users/{alice.id}").json()["team_ids"] == [crew["id"], second["id"]]
    assert api.get(f"/api/v1/users/{alice.id}").json()["primary_team_id"] == crew["id"]  # the first
    removed = api.post(f"/api/v1/teams/{crew['id']}:remove-members", json={"user_ids": [alice.id]})
    assert removed.json()["member_ids"] == [bob.id]
    assert api.get(f"/api/v1/users/{alice.id}").json()["primary_team_id"] == second["id"]
    renamed = api.patch(f"/api/v1/teams/{crew['id']}", json={"description": "north"})
    assert renamed.json()["description"] == "north"
    api.assert_problem(api.post("/api/v1/teams", json={"name": crew["name"]}), 409)
    api.assert_problem(
        api.post(f"/api/v1/teams/{crew['id']}:add-members", json={"user_ids": ["nobody"]}), 422
    )
    api.assert_problem(api.get("/api/v1/teams/nope"), 404)
    # /me shows the member's teams, primary first in joining order, within the cache time.
    deadline = time.monotonic() + 5
    while True:
        me = bob.client.get("/api/v1/me").json()
        if me["teams"]:
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert me["teams"] == [{"id": crew["id"], "name": crew["name"], "primary": True}]
    assert me["primary_team_id"] == crew["id"]


def test_builtin_roles_are_listed_with_matrices_and_read_only(api) -> None:
    roles = {r["name"]: r for r in api.get("/api/v1/roles").json()["items"]}
    assert {"admin", "manager", "sales_rep", "marketer", "support_agent", "read_only", "partner"} <= set(
        roles
    )
    assert roles["sales_rep"]["builtin"] is True
    assert roles["sales_rep"]["permissions"]["contact"] == {
        "create": "all",
        "read": "team",
        "update": "own",
        "delete": "own",
    }
    assert roles["read_only"]["permissions"]["deal"]["update"] == "none"
    api.assert_problem(api.patch("/api/v1/roles/manager", json={"description": "x"}), 409)
    api.assert_problem(api.delete("/api/v1/roles/admin"), 409)
    api.assert_problem(api.post("/api/v1/roles", json={"name": "admin", "permissions": {}}), 409)


def test_custom_roles_validate_cells_and_add_to_effective_rights(api, person) -> None:
    bad = api.post("/api/v1/roles", json={"name": "auditor", "permissions": {"contact": {"read": "most"}}})
    problem = api.assert_problem(bad, 400)
    assert problem["errors"][0]["field"] == "permissions.contact.read"
    unknown = api.post(
        "/api/v1/roles", json={"name": "auditor", "permissions": {"spaceship": {"read": "all"}}}
    )
    assert api.assert_problem(unknown, 400)["errors"][0]["field"] == "permissions.spaceship"
    action = api.post("/api/v1/roles", json={"name": "auditor", "permissions": {"contact": {"fly": "all"}}})
    assert api.assert_problem(action, 400)["errors"][0]["field"] == "permissions.contact.fly"

    name = f"ticket_reader_{int(time.time() * 1000) % 100000}"
    created = api.post(
        "/api/v1/roles",
        json={"name": name, "description": "reads tickets", "permissions": {"ticket": {"read": "all"}}},
    )
    assert created.status_code == 201, created.text
    assert created.json()["permissions"]["ticket"] == {
        "create": "none",
        "read": "all",
        "update": "none",
        "delete": "none",
    }
    who = person(roles=("sales_rep", name))
    rights = who.client.get("/api/v1/me").json()["rights"]
    assert rights["ticket"]["read"] == "all"  # from the custom role
    assert rights["contact"]["create"] == "all" and rights["contact"]["update"] == "own"  # from sales_rep
    api.assert_problem(api.delete(f"/api/v1/roles/{name}"), 409)  # still held
    changed = api.patch(f"/api/v1/roles/{name}", json={"permissions": {"ticket": {"read": "team"}}})
    assert changed.json()["permissions"]["ticket"]["read"] == "team"
    api.patch(f"/api/v1/users/{who.id}", json={"roles": ["sales_rep"]})
    assert api.delete(f"/api/v1/roles/{name}").status_code == 204
    api.assert_problem(api.get(f"/api/v1/roles/{name}"), 404)


def test_me_lists_every_resource_type_even_those_no_role_mentions(api, person) -> None:
    name = f"only_tickets_{time.monotonic_ns() % 100000}"
    created = api.post("/api/v1/roles", json={"name": name, "permissions": {"ticket": {"read": "all"}}})
    assert created.status_code == 201, created.text
    rights = person(roles=(name,)).client.get("/api/v1/me").json()["rights"]
    assert set(rights) == set(resource_types())
    assert rights["deal"] == {"create": "none", "read": "none", "update": "none", "delete": "none"}
    assert rights["ticket"]["read"] == "all"


def test_partner_users_see_only_their_own_partner_account(api, person, partner_account) -> None:
    mine, theirs = partner_account("distributor"), partner_account()
    buyer = person(roles=("partner",), partner_account_id=mine["id"])
    listed = buyer.client.get("/api/v1/partner-accounts").json()["items"]
    assert [a["id"] for a in listed] == [mine["id"]]
    assert buyer.client.get(f"/api/v1/partner-accounts/{mine['id']}").json()["kind"] == "distributor"
    buyer.client.assert_problem(buyer.client.get(f"/api/v1/partner-accounts/{theirs['id']}"), 404)
    me = buyer.client.get("/api/v1/me").json()
    assert me["partner_account"] == {"id": mine["id"], "name": mine["name"], "kind": "distributor"}
    assert me["roles"] == ["partner"] and me["rights"]["contact"]["read"] == "all"
    # Staff read them all; only admins change them.
    staff = person()
    ids = {
        a["id"] for a in staff.client.get("/api/v1/partner-accounts", params={"limit": 200}).json()["items"]
    }
    assert {mine["id"], theirs["id"]} <= ids
    staff.client.assert_problem(
        staff.client.patch(f"/api/v1/partner-accounts/{mine['id']}", json={"active": False}), 403
    )
    # A partner user cannot be given staff roles.
    api.assert_problem(api.patch(f"/api/v1/users/{buyer.id}", json={"roles": ["partner", "admin"]}), 422)


def test_deactivating_a_partner_account_signs_its_users_out(api, person, partner_account) -> None:
    account = partner_account()
    buyer = person(roles=("partner",), partner_account_id=account["id"])
    assert buyer.client.get("/api/v1/me").status_code == 200
    assert (
        api.patch(f"/api/v1/partner-accounts/{account['id']}", json={"active": False}).json()["active"]
        is False
    )
    started = time.monotonic()
    while buyer.client.get("/api/v1/me").status_code != 401:
        assert time.monotonic() - started < 5
        time.sleep(0.2)


def test_me_for_a_staff_user(person) -> None:
    who = person(roles=("support_agent",))
    me = who.client.get("/api/v1/me").json()
    assert me["kind"] == "user" and me["id"] == who.id and me["email"] == who.email
    assert me["roles"] == ["support_agent"] and me["partner_account"] is None and me["scopes"] == []
    assert me["rights"]["ticket"] == {"create": "all", "read": "team", "update": "team", "delete": "own"}
    who.client.assert_documented(me, "Me")
