"""Tokens: issued for the right password only, required on every protected route, checked strictly."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import Any

import grpc
import jwt
import pytest

from crm_platform.access import CallerContext
from crm_platform.access.context import CallerContextCheck
from crm_platform.errors import Unauthenticated
from crm_platform.grpc_server import GrpcServer
from gateway.schema import User
from gateway.tokens import ISSUER
from gateway.users import ADMIN, Authenticator, create_user, ensure_bootstrap_admin

PUBLIC = {
    "/api/v1/auth/token",
    "/api/v1/auth/refresh",
    "/api/v1/auth/revoke",
    "/api/v1/openapi.json",
    "/api/v1/web-forms/<form_key>/submissions",  # a web site's lead form (rate limited by sales)
    "/api/v1/calendar-feeds/<token>/calendar.ics",  # a phone's calendar app: the secret token is the key
}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "sv": 0,
        "iat": now,
        "exp": now + 600,
        "iss": ISSUER,
        "aud": "crm-api",
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def protected_routes(app: Any) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule in PUBLIC:
            continue
        path = re.sub(r"<[^>]+>", "some-id", rule.rule)
        routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def bad_authorizations(secret: str) -> dict[str, str | None]:
    def signed(claims: dict[str, Any], key: str = secret, algorithm: str = "HS256") -> str:
        return "Bearer " + jwt.encode(claims, key, algorithm=algorithm, headers={"kid": "k1"})

    return {
        "missing": None,
        "empty": "",
        "scheme only": "Bearer",
        "not a jwt": "Bearer not.a.jwt",
        "basic": "Basic YTpi",
        "expired": signed(_claims(iat=1, exp=2)),
        "other key": signed(_claims(), key="x" * 48),
        "alg none": f"Bearer {_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
        "other issuer": signed(_claims(iss="someone-else")),
        "no jti": signed(_claims(jti=None)),
        "no exp": signed(_claims(exp=None)),
        "HS512": signed(_claims(), algorithm="HS512"),
        "sub not a string": signed(_claims(sub=None) | {"sub": 5}),
        "no kid": "Bearer " + jwt.encode(_claims(), secret, algorithm="HS256"),
        "unknown kid": "Bearer " + jwt.encode(_claims(), secret, algorithm="HS256", headers={"kid": "k9"}),
        "other audience": signed(_claims(aud="someone-else")),
        "no audience": signed(_claims(aud=None)),
        "no security version": signed(_claims(sv=None)),
    }


def test_admin_gets_a_bearer_token_with_the_documented_claims(gateway, anonymous) -> None:
    reply = anonymous.post(
        "/api/v1/auth/token", json={"email": "ADMIN@example.com ", "password": gateway.admin_password}
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["Cache-Control"] == "no-store"
    body = reply.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == gateway.settings.token_ttl_seconds
    claims = jwt.decode(
        body["access_token"],
        gateway.settings.jwt_secret,
        algorithms=["HS256"],
        issuer=ISSUER,
        audience=gateway.settings.token_audience,
    )
    assert jwt.get_unverified_header(body["access_token"])["kid"] == gateway.settings.jwt_kid
    assert claims["sv"] == 0  # roles are not in the token: each request reads the user's current ones
    assert claims["exp"] - claims["iat"] == gateway.settings.token_ttl_seconds
    assert claims["sub"] and claims["jti"]
    assert body["refresh_token"] and body["refresh_expires_in"] == gateway.settings.refresh_ttl_seconds


def test_wrong_password_and_unknown_email_get_the_same_401(gateway, anonymous) -> None:
    wrong = anonymous.post("/api/v1/auth/token", json={"email": "admin@example.com", "password": "nope"})
    unknown = anonymous.post(
        "/api/v1/auth/token", json={"email": "nobody@example.com", "password": gateway.admin_password}
    )
    first, second = anonymous.assert_problem(wrong, 401), anonymous.assert_problem(unknown, 401)
    assert first["detail"] == second["detail"] == "Wrong email or password."
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_protected_route_refuses_every_bad_token(gateway, anonymous) -> None:
    routes = protected_routes(gateway.app)
    # The hand-written routes and every route transcoded from the contracts.
    assert {
        ("GET", "/api/v1/customers/some-id/360"),
        ("POST", "/api/v1/contacts"),
        ("GET", "/api/v1/contacts"),
        ("GET", "/api/v1/contacts/some-id"),
        ("PATCH", "/api/v1/contacts/some-id"),
        ("DELETE", "/api/v1/contacts/some-id"),
        ("GET", "/api/v1/contacts/some-id/history"),
    } <= set(routes)
    for label, authorization in bad_authorizations(gateway.settings.jwt_secret).items():
        headers = {} if authorization is None else {"Authorization": authorization}
        for method, path in routes:
            reply = anonymous.request(method, path, headers=headers, json={})
            problem = anonymous.assert_problem(reply, 401)
            assert reply.headers["WWW-Authenticate"].startswith("Bearer"), (label, path)
            assert problem["instance"] == path


def test_public_routes_need_no_token(anonymous) -> None:
    for path in ("/healthz", "/readyz", "/api/v1/openapi.json", "/docs"):
        assert anonymous.get(path).status_code == 200, path


def test_deactivated_user_cannot_log_in(gateway, anonymous) -> None:
    sessions = gateway.app.extensions["crm_gateway"].database.sessions
    email = anonymous.new_email()
    with sessions.begin() as session:
        user = create_user(session, email, "a-long-enough-password", ("sales_rep",))
        user_id = user.id
    assert gateway.token(email, "a-long-enough-password")
    with sessions.begin() as session:
        session.get(User, user_id).is_active = False
    reply = anonymous.post("/api/v1/auth/token", json={"email": email, "password": "a-long-enough-password"})
    anonymous.assert_problem(reply, 401)


def test_unknown_email_still_verifies_a_hash(gateway, monkeypatch) -> None:
    """Timing must not tell whether an account exists: the unknown-email path verifies a dummy hash."""
    authenticator = Authenticator(gateway.app.extensions["crm_gateway"].database.sessions)
    calls: list[str] = []
    real_verify = authenticator.passwords.verify
    monkeypatch.setattr(authenticator.passwords, "verify", lambda h, p: calls.append(h) or real_verify(h, p))
    assert authenticator.authenticate("nobody@example.com", "whatever") is None
    assert calls == [authenticator.passwords.dummy_hash]


def test_bootstrap_admin_is_created_once_and_only_into_an_empty_database(gateway, caplog) -> None:
    sessions = gateway.app.extensions["crm_gateway"].database.sessions
    # The fixture's `prepare` already created it; a second start changes nothing.
    assert not ensure_bootstrap_admin(sessions, "other@example.com", "another-long-password")
    with sessions.begin() as session:
        assert session.query(User).filter_by(email="other@example.com").count() == 0


def test_no_admin_settings_on_an_empty_database_logs_a_warning(own_gateway, caplog) -> None:
    running = own_gateway(admin_email="admin@example.com", admin_password="")
    with running.app.extensions["crm_gateway"].database.sessions.begin() as session:
        assert session.query(User).count() == 0
    assert any(
        "CRM_ADMIN_PASSWORD is not set" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records
    )


class _RecordCaller(grpc.ServerInterceptor):
    """Records the caller context each call carries, as the service verifies it."""

    def __init__(self) -> None:
        self.callers: list[CallerContext | None] = []
        self.check = CallerContextCheck()

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        try:
            self.callers.append(self.check.caller_from(handler_call_details.invocation_metadata))
        except Unauthenticated:
            self.callers.append(None)
        return continuation(handler_call_details)


def test_the_signed_caller_context_reaches_the_service(services, own_gateway) -> None:
    import contacts.api

    recorder = _RecordCaller()
    runtime = services["contacts"].runtime
    server = GrpcServer(
        "contacts", "127.0.0.1:0", lambda s: contacts.api.register(s, runtime), interceptors=[recorder]
    ).start()
    try:
        running = own_gateway({"contacts": f"127.0.0.1:{server.port}"})
        token = running.token()
        user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
        client = running.client(token)
        client.create_contact()
    finally:
        server.stop(0)
    callers = [c for c in recorder.callers if c is not None]
    assert callers and callers[-1].subject == user_id and callers[-1].roles == (ADMIN,)
    assert callers[-1].level("contact", "delete").label == "all"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "admin@example.com"}, 422),
        ({"email": 1, "password": ["x"]}, 422),
        ({"email": "admin@example.com", "password": "x", "remember": True}, 422),
        ({"email": "", "password": ""}, 422),
    ],
)
def test_token_request_body_is_validated(anonymous, body: dict[str, Any], status: int) -> None:
    problem = anonymous.assert_problem(anonymous.post("/api/v1/auth/token", json=body), status)
    assert problem["errors"]
