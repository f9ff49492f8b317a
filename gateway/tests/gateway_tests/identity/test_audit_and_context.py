"""The audit trail (what is recorded, filters, time range, cursors), the signed caller context handed to
services, and the identity routes in the OpenAPI document."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import requests
from flask import g

from crm_platform.access import API_KEY, USER, CallerContextVerifier, Level
from crm_platform.access.keys import public_keys
from gateway.identity.caller_context import signed_caller_context
from gateway.identity.principal import Principal


def test_security_actions_are_audited_and_filterable(api, gateway, person) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    who = person()
    bad = requests.post(
        f"{gateway.url}/api/v1/auth/token", json={"email": who.email, "password": "nope"}, timeout=10
    )
    assert bad.status_code == 401
    api.post(f"/api/v1/users/{who.id}:deactivate")
    admin_id = api.get("/api/v1/me").json()["id"]

    def actions(**params: str) -> list[str]:
        reply = api.get("/api/v1/audit-events", params={"since": since.isoformat(), "limit": 200, **params})
        assert reply.status_code == 200, reply.text
        api.assert_documented(reply.json(), "AuditEventList")
        return [e["action"] for e in reply.json()["items"]]

    assert actions(target_id=who.id) == [
        "user.deactivated",
        "login.succeeded",
        "user.created",
    ]  # newest first
    assert "user.deactivated" in actions(actor_id=admin_id)
    failed = api.get("/api/v1/audit-events", params={"action": "login.failed", "since": since.isoformat()})
    assert any(
        e["details"] == {"email": who.email} and e["actor_kind"] == "anonymous"
        for e in failed.json()["items"]
    )
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    before = api.get("/api/v1/audit-events", params={"target_id": who.id, "until": since.isoformat()})
    assert before.json()["items"] == []  # the time range is applied
    assert api.get("/api/v1/audit-events", params={"since": future}).json()["items"] == []
    api.assert_problem(api.get("/api/v1/audit-events", params={"since": "yesterday"}), 400)
    api.assert_problem(api.get("/api/v1/audit-events", params={"actor": admin_id}), 400)


def test_audit_pages_are_disjoint_and_complete(api, person) -> None:
    who = person()
    for name in ("a", "b", "c"):
        api.patch(f"/api/v1/users/{who.id}", json={"name": name})
    seen, cursor = [], None
    while True:
        params = {"target_id": who.id, "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.get("/api/v1/audit-events", params=params).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5  # created, login, three updates


def test_signed_caller_context_for_users_and_api_keys(gateway, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    app = gateway.app
    runtime = app.extensions["crm_identity"]
    runtime.caller_contexts._signer = None  # sign with a key under this test's CRM_DATA_DIR
    user = Principal(
        kind=USER,
        subject="u-1",
        roles=("sales_rep",),
        team_ids=("t-1", "t-2"),
        primary_team_id="t-1",
        rights=runtime.roles.rights(("sales_rep",)),
    )
    key = Principal(
        kind=API_KEY,
        subject="k-1",
        scopes=("contacts:read",),
        rights={
            "contact": {"create": Level.NONE, "read": Level.ALL, "update": Level.NONE, "delete": Level.NONE}
        },
    )
    with app.test_request_context("/api/v1/me"):
        g.principal = user
        first = signed_caller_context()
        assert signed_caller_context() == first  # cached for most of its lifetime
        g.principal = key
        for_key = signed_caller_context()
    files = sorted(p.name for p in (tmp_path / "keys").iterdir())
    assert "caller-context.pem" in files and any(
        re.fullmatch(r"caller-context\..+\.pub\.pem", f) for f in files
    )
    assert (tmp_path / "keys" / "caller-context.pem").stat().st_mode & 0o777 == 0o600
    verifier = CallerContextVerifier(public_keys())
    context = verifier.verify(first)
    assert (context.subject, context.kind, context.team_ids, context.primary_team_id) == (
        "u-1",
        USER,
        ("t-1", "t-2"),
        "t-1",
    )
    assert context.level("contact", "update") == Level.OWN and context.level("contact", "create") == Level.ALL
    keyed = verifier.verify(for_key)
    assert keyed.kind == API_KEY and keyed.scopes == ("contacts:read",)
    assert keyed.level("contact", "read") == Level.ALL and keyed.level("contact", "update") == Level.NONE
    runtime.caller_contexts._signer = None


def test_a_role_change_gives_a_new_caller_context(gateway, api, person) -> None:
    who = person()
    runtime = gateway.app.extensions["crm_identity"]
    before = runtime.caller_contexts.signed(Principal(kind=USER, subject=who.id, roles=("sales_rep",)))
    after = runtime.caller_contexts.signed(Principal(kind=USER, subject=who.id, roles=("manager",)))
    assert before != after


def test_identity_routes_are_all_documented(gateway, api) -> None:
    document = api.openapi()
    served = set()
    for rule in gateway.app.url_map.iter_rules():
        if rule.endpoint.startswith("api.identity_") or rule.rule.startswith("/api/v1/auth/"):
            path = re.sub(r"<([^>]+)>", r"{\1}", rule.rule)
            served |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert served and served <= documented, served - documented
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKeyHeader"] == {
        **schemes["apiKeyHeader"],
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    assert {"apiKeyHeader": []} in document["security"]
    login = document["paths"]["/api/v1/auth/token"]["post"]["responses"]["429"]
    assert "Retry-After" in login["headers"]
    for path in ("/api/v1/auth/refresh", "/api/v1/auth/revoke"):
        assert document["paths"][path]["post"]["security"] == []
    assert document["paths"]["/api/v1/users"]["post"]["responses"]["403"]


def test_every_identity_answer_matches_its_schema(api, person, team, partner_account) -> None:
    who = person()
    for path, schema in (
        ("/api/v1/users", "UserList"),
        (f"/api/v1/users/{who.id}", "UserOut"),
        ("/api/v1/teams", "TeamList"),
        (f"/api/v1/teams/{team()['id']}", "TeamOut"),
        ("/api/v1/roles", "RoleList"),
        ("/api/v1/roles/manager", "RoleOut"),
        ("/api/v1/partner-accounts", "PartnerAccountList"),
        (f"/api/v1/partner-accounts/{partner_account()['id']}", "PartnerAccountOut"),
        ("/api/v1/api-keys", "ApiKeyList"),
        ("/api/v1/me", "Me"),
    ):
        reply = api.get(
            path, params={"limit": 5} if schema.endswith("List") and "roles" not in path else None
        )
        assert reply.status_code == 200, (path, reply.text)
        api.assert_documented(reply.json(), schema)
