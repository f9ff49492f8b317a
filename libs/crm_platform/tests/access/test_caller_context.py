"""The signed caller context: what a service accepts, and everything it refuses."""

from __future__ import annotations

import time

import jwt
import pytest

from crm_platform.access import (
    CallerContext,
    CallerContextSigner,
    CallerContextVerifier,
    InvalidCallerContext,
    Level,
    builtin_rights,
)

CALLER = CallerContext(
    subject="u1",
    roles=("sales_rep",),
    team_ids=("t1", "t2"),
    primary_team_id="t1",
    partner_account_id="p1",
    rights=builtin_rights("sales_rep"),
)


def test_a_signed_context_round_trips(key_pair) -> None:
    private, public = key_pair
    token = CallerContextSigner(private, "k1").sign(CALLER)
    verified = CallerContextVerifier({"k1": public}).verify(token)
    assert verified == CALLER
    assert verified.level("contact", "read") is Level.TEAM


def test_rotation_accepts_any_known_kid(key_pair, other_key_pair) -> None:
    verifier = CallerContextVerifier({"old": key_pair[1], "new": other_key_pair[1]})
    assert verifier.verify(CallerContextSigner(key_pair[0], "old").sign(CALLER)).subject == "u1"
    assert verifier.verify(CallerContextSigner(other_key_pair[0], "new").sign(CALLER)).subject == "u1"


def _claims(**overrides):
    now = int(time.time())
    return {
        **CALLER.claims(),
        "iss": "crm-gateway",
        "aud": "crm-services",
        "iat": now,
        "exp": now + 60,
        **overrides,
    }


@pytest.mark.parametrize(
    "case",
    [
        "unknown kid",
        "other key",
        "expired",
        "wrong audience",
        "wrong issuer",
        "alg none",
        "hs256 with public key",
        "garbage",
        "malformed rights",
    ],
)
def test_forged_expired_or_malformed_contexts_are_refused(case, key_pair, other_key_pair) -> None:
    private, public = key_pair
    verifier = CallerContextVerifier({"k1": public})
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(private, None)
    other = load_pem_private_key(other_key_pair[0], None)
    tokens = {
        "unknown kid": jwt.encode(_claims(), key, algorithm="EdDSA", headers={"kid": "k9"}),
        "other key": jwt.encode(_claims(), other, algorithm="EdDSA", headers={"kid": "k1"}),
        "expired": jwt.encode(
            _claims(exp=int(time.time()) - 60), key, algorithm="EdDSA", headers={"kid": "k1"}
        ),
        "wrong audience": jwt.encode(_claims(aud="someone"), key, algorithm="EdDSA", headers={"kid": "k1"}),
        "wrong issuer": jwt.encode(_claims(iss="me"), key, algorithm="EdDSA", headers={"kid": "k1"}),
        "alg none": jwt.encode(_claims(), None, algorithm="none", headers={"kid": "k1"}),
        "hs256 with public key": _hs256_with(public),
        "garbage": "not.a.jwt",
        "malformed rights": jwt.encode(
            _claims(rts={"contact": "9x"}), key, algorithm="EdDSA", headers={"kid": "k1"}
        ),
    }
    with pytest.raises(InvalidCallerContext):
        verifier.verify(tokens[case])


def _hs256_with(public_pem: bytes) -> str:
    # The classic key-confusion forgery: HMAC keyed with the (public) verification key.
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    payload = b64(json.dumps(_claims()).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def test_verified_contexts_are_cached_until_they_expire(key_pair) -> None:
    private, public = key_pair
    verifier = CallerContextVerifier({"k1": public})
    token = CallerContextSigner(private, "k1", ttl_seconds=60).sign(CALLER)
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # served from the cache, not decoded again
    stale = CallerContextSigner(private, "k1", ttl_seconds=1).sign(CALLER, now=time.time() - 30)
    with pytest.raises(InvalidCallerContext, match="expired"):
        verifier.verify(stale)
