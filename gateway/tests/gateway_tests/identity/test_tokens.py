"""Access tokens (kid, aud, pinned algorithm, rotation) and refresh tokens (rotation, reuse, revoke)."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.tokens import ISSUER


def _claims(user_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "sv": 0,
        "iat": now,
        "exp": now + 600,
        "iss": ISSUER,
        "aud": "crm-api",
        "jti": uuid.uuid4().hex,
        **overrides,
    }
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _status(gateway, token: str) -> int:
    reply = requests.get(f"{gateway.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return reply.status_code


def test_token_attacks_are_refused(gateway, api) -> None:
    admin_id = api.get("/api/v1/me").json()["id"]
    secret = gateway.settings.jwt_secret
    good = jwt.encode(_claims(admin_id), secret, algorithm="HS256", headers={"kid": "k1"})
    assert _status(gateway, good) == 200
    ed_key = Ed25519PrivateKey.generate()
    attacks = {
        "unknown kid": jwt.encode(_claims(admin_id), secret, algorithm="HS256", headers={"kid": "k2"}),
        "no kid": jwt.encode(_claims(admin_id), secret, algorithm="HS256"),
        "wrong aud": jwt.encode(
            _claims(admin_id, aud="crm-other"), secret, algorithm="HS256", headers={"kid": "k1"}
        ),
        "aud list without ours": jwt.encode(
            _claims(admin_id, aud=["x", "y"]), secret, algorithm="HS256", headers={"kid": "k1"}
        ),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{_b64(_claims(admin_id))}.",
        "alg None spelled": f"{_b64({'alg': 'None', 'kid': 'k1'})}.{_b64(_claims(admin_id))}.",
        "HS384": jwt.encode(_claims(admin_id), secret, algorithm="HS384", headers={"kid": "k1"}),
        "HS512": jwt.encode(_claims(admin_id), secret, algorithm="HS512", headers={"kid": "k1"}),
        "EdDSA": jwt.encode(_claims(admin_id), ed_key, algorithm="EdDSA", headers={"kid": "k1"}),
        "stale security version": jwt.encode(
            _claims(admin_id, sv=7), secret, algorithm="HS256", headers={"kid": "k1"}
        ),
        "unknown user": jwt.encode(
            _claims(str(uuid.uuid4())), secret, algorithm="HS256", headers={"kid": "k1"}
        ),
        "expired beyond leeway": jwt.encode(
            _claims(admin_id, iat=int(time.time()) - 100, exp=int(time.time()) - 30),
            secret,
            algorithm="HS256",
            headers={"kid": "k1"},
        ),
        "garbage header": "!!!.e30.x",
    }
    for label, token in attacks.items():
        assert _status(gateway, token) == 401, label
    # Within the small leeway, a token a replica's clock thinks just expired still passes.
    skewed = jwt.encode(
        _claims(admin_id, exp=int(time.time()) - 3), secret, algorithm="HS256", headers={"kid": "k1"}
    )
    assert _status(gateway, skewed) == 200


def test_key_rotation_keeps_old_tokens_valid_and_signs_with_the_new_key(own_gateway) -> None:
    old_secret = secrets.token_urlsafe(48)
    running = own_gateway(jwt_kid="k2", jwt_previous_keys={"k1": old_secret})
    admin = running.client()
    admin_id = admin.get("/api/v1/me").json()["id"]
    issued_before_rotation = jwt.encode(
        _claims(admin_id), old_secret, algorithm="HS256", headers={"kid": "k1"}
    )
    assert _status(running, issued_before_rotation) == 200
    fresh = running.token(password=running.admin_password, email="admin@example.com")
    assert jwt.get_unverified_header(fresh)["kid"] == "k2"
    # The old key only verifies under its own kid.
    confused = jwt.encode(_claims(admin_id), old_secret, algorithm="HS256", headers={"kid": "k2"})
    assert _status(running, confused) == 401
    admin.http.close()


def _refresh(gateway, token: str) -> requests.Response:
    return requests.post(f"{gateway.url}/api/v1/auth/refresh", json={"refresh_token": token}, timeout=10)


def test_refresh_rotates_and_reuse_revokes_the_family(gateway, api, person) -> None:
    who = person()
    first = _refresh(gateway, who.refresh_token)
    assert first.status_code == 200, first.text
    pair = first.json()
    assert first.headers["Cache-Control"] == "no-store"
    assert pair["refresh_token"] != who.refresh_token and _status(gateway, pair["access_token"]) == 200
    second = _refresh(gateway, pair["refresh_token"])
    assert second.status_code == 200
    # The first token again: a copy is in use somewhere; the whole family dies, the newest token too.
    reused = _refresh(gateway, who.refresh_token)
    assert reused.status_code == 401
    assert _refresh(gateway, second.json()["refresh_token"]).status_code == 401
    events = api.get("/api/v1/audit-events", params={"action": "refresh_token.reused", "actor_id": who.id})
    assert len(events.json()["items"]) == 1
    for bad in ("", "x", "nope.nope", f"{uuid.uuid4()}.{secrets.token_urlsafe(32)}"):
        assert _refresh(gateway, bad).status_code in (401, 422)


def test_revoke_signs_out(gateway, person) -> None:
    who = person()
    reply = requests.post(
        f"{gateway.url}/api/v1/auth/revoke", json={"refresh_token": who.refresh_token}, timeout=10
    )
    assert reply.status_code == 204
    assert _refresh(gateway, who.refresh_token).status_code == 401
    unknown = requests.post(f"{gateway.url}/api/v1/auth/revoke", json={"refresh_token": "a.b"}, timeout=10)
    assert unknown.status_code == 204


def test_identity_of_issues_tokens_for_real_users_only(gateway) -> None:
    from gateway.users import identity_of

    state = gateway.app.extensions["crm_gateway"]
    admin = identity_of(state.database.sessions, "ADMIN@example.com")
    assert admin is not None and admin.roles == ("admin",)
    assert _status(gateway, state.tokens.issue(admin).access_token) == 200
    assert identity_of(state.database.sessions, "nobody@example.com") is None
