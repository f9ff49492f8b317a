"""The caller context: who is calling a service, with what rights, signed by the gateway.

The gateway authenticates a person or an integration and hands each service call a short-lived JWT
(EdDSA/Ed25519) in the `x-crm-caller` metadata. Only the gateway holds the private key; services hold the
public keys (several, by `kid`, so keys rotate without a flag day) and verify the signature, the issuer,
the audience and the expiry before they believe a word of it. A bare header anything on the network could
set is never trusted. Verification is cached per token until it expires: a gateway worker reuses one
signed context per caller for most of its lifetime, so a service verifies each about once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from crm_platform.access.rights import Level, Rights, decode_compact, encode_compact, level_of

METADATA_KEY = "x-crm-caller"
ISSUER = "crm-gateway"
AUDIENCE = "crm-services"
ALGORITHM = "EdDSA"
LEEWAY_SECONDS = 5

USER = "user"
API_KEY = "api_key"
SERVICE = "service"


class KeySource(Protocol):
    def get(self, kid: str, /) -> bytes | None: ...


class InvalidCallerContext(Exception):
    """The context is missing, forged, expired or malformed."""


@dataclass(frozen=True)
class CallerContext:
    subject: str  # a user id, an API key id, or a service name
    kind: str = USER
    roles: tuple[str, ...] = ()
    team_ids: tuple[str, ...] = ()
    primary_team_id: str | None = None
    partner_account_id: str | None = None
    rights: Rights = field(default_factory=dict)
    # API keys: the services they may use, as `<service>:read` / `<service>:write`.
    scopes: tuple[str, ...] = ()
    # What code derives from this (immutable) context and asks again on every call, kept with it: the
    # scope decisions (crm_platform.access.scope). A service's verifier hands one object per verified
    # token, so this lives as long as its cache entry.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def level(self, resource_type: str, action: str) -> Level:
        return level_of(self.rights, resource_type, action)

    @property
    def is_partner(self) -> bool:
        return self.partner_account_id is not None

    def claims(self) -> dict[str, object]:
        claims: dict[str, object] = {
            "sub": self.subject,
            "knd": self.kind,
            "rol": list(self.roles),
            "tms": list(self.team_ids),
            "rts": encode_compact(self.rights),
        }
        if self.primary_team_id:
            claims["ptm"] = self.primary_team_id
        if self.partner_account_id:
            claims["pac"] = self.partner_account_id
        if self.scopes:
            claims["scp"] = list(self.scopes)
        return claims

    @classmethod
    def from_claims(cls, claims: Mapping[str, object]) -> CallerContext:
        try:
            return cls(
                subject=_text(claims["sub"]),
                kind=_text(claims["knd"]),
                roles=_texts(claims.get("rol", [])),
                team_ids=_texts(claims.get("tms", [])),
                primary_team_id=_optional_text(claims.get("ptm")),
                partner_account_id=_optional_text(claims.get("pac")),
                rights=decode_compact(_compact(claims.get("rts", {}))),
                scopes=_texts(claims.get("scp", [])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidCallerContext(f"malformed caller context: {exc}") from None


def service_identity(name: str, rights: Rights) -> CallerContext:
    """The caller for work no person is behind (an event handler calling another service)."""
    return CallerContext(subject=name, kind=SERVICE, rights=rights)


class CallerContextSigner:
    """Signs caller contexts (the gateway's side)."""

    def __init__(self, private_key_pem: bytes, kid: str, ttl_seconds: int = 120) -> None:
        self._key = load_pem_private_key(private_key_pem, password=None)
        self.kid = kid
        self.ttl_seconds = ttl_seconds

    def sign(self, caller: CallerContext, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims = {
            **caller.claims(),
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": issued,
            "exp": issued + self.ttl_seconds,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})


class CallerContextVerifier:
    """Verifies signed caller contexts (every service's side), with a bounded cache of verified tokens."""

    def __init__(self, public_keys_pem: KeySource, cache_size: int = 10_000) -> None:
        """`public_keys_pem`: kid -> PEM, a dict or anything with `get(kid)` (keys.ReloadingKeys)."""
        self._source = public_keys_pem
        self._keys: dict[str, Any] = {}
        self._cache: OrderedDict[str, tuple[float, CallerContext]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def verify(self, token: str) -> CallerContext:
        now = time.time()
        with self._lock:
            cached = self._cache.get(token)
            if cached is not None:
                expires, caller = cached
                if now < expires + LEEWAY_SECONDS:
                    self._cache.move_to_end(token)
                    return caller
                del self._cache[token]
        caller, expires_at = self._verify_uncached(token)
        with self._lock:
            self._cache[token] = (expires_at, caller)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return caller

    def _verify_uncached(self, token: str) -> tuple[CallerContext, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise InvalidCallerContext(f"caller context is not a JWT: {exc}") from None
        key = self._key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key,  # type: ignore[arg-type]
                algorithms=[ALGORITHM],  # pinned: the token never chooses (alg=none, HS/public-key confusion)
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["sub", "exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidCallerContext("caller context has expired") from None
        except jwt.InvalidTokenError as exc:
            raise InvalidCallerContext(f"caller context is not valid: {exc}") from None
        return CallerContext.from_claims(claims), float(claims["exp"])

    def _key(self, kid: str) -> Any:
        key = self._keys.get(kid)
        if key is None:
            pem = self._source.get(kid) if kid else None
            if pem is None:
                raise InvalidCallerContext("caller context signed with an unknown key")
            key = self._keys[kid] = load_pem_public_key(pem)
        return key


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty string")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _texts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return tuple(_text(v) for v in value)


def _compact(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError("expected an object of strings")
    return {str(k): v for k, v in value.items()}
