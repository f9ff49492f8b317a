"""Access tokens: short-lived JWTs (HS256) issued at login or refresh and verified on every API request.

Claims: `iss`, `aud`, `sub` (the user id), `sv` (the user's security version: a bump ends every token
issued before it), `iat`, `exp`, `jti`; header `kid`. Keys rotate without logging anyone out: the
current key signs, and every key in GATEWAY_JWT_PREVIOUS_KEYS still verifies until it is removed (keep it
for one token lifetime). Refused: an unknown or missing `kid`, a wrong `aud` or `iss`, `alg=none` and any
algorithm but HS256 (the algorithm is pinned, never taken from the token).

Pure token logic, with no Flask or app state, so anything may import it without a cycle.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jwt

from gateway.users import Identity

if TYPE_CHECKING:
    from gateway.settings import GatewaySettings

ISSUER = "crm-gateway"
ALGORITHM = "HS256"
DEFAULT_AUDIENCE = "crm-api"
# Clock skew tolerated between gateway replicas; small, because tokens are short.
LEEWAY_SECONDS = 10
REQUIRED_CLAIMS = ["sub", "sv", "iat", "exp", "iss", "aud", "jti"]
# Verified tokens are remembered until they expire: a client sends the same token for its whole life,
# and HMAC + JSON + claim checks cost ~60 µs a request; a hit costs a dict lookup. Only tokens that
# passed every check are kept, so the cache cannot make a bad token good.
VERIFIED_CACHE_SIZE = 20_000


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


class TokenIssuer:
    def __init__(
        self,
        secret: str,
        ttl_seconds: int,
        *,
        kid: str = "k1",
        previous_keys: Mapping[str, str] | None = None,
        audience: str = DEFAULT_AUDIENCE,
    ) -> None:
        self._kid = kid
        self._secret = secret
        self._keys = {**(previous_keys or {}), kid: secret}
        self.ttl_seconds = ttl_seconds
        self.audience = audience
        self._verified: OrderedDict[str, tuple[float, Identity]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> TokenIssuer:
        return cls(
            settings.jwt_secret,
            settings.token_ttl_seconds,
            kid=settings.jwt_kid,
            previous_keys=settings.jwt_previous_keys,
            audience=settings.token_audience,
        )

    def issue(self, identity: Identity) -> IssuedToken:
        now = int(time.time())
        claims = {
            "sub": identity.user_id,
            "sv": identity.security_version,
            "iat": now,
            "exp": now + self.ttl_seconds,
            "iss": ISSUER,
            "aud": self.audience,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM, headers={"kid": self._kid})
        return IssuedToken(token, self.ttl_seconds)

    def verify(self, token: str) -> Identity:
        """The identity in a valid token (roles are not in tokens: they come from the user's current
        state); raises jwt.InvalidTokenError for anything else."""
        now = time.time()
        with self._lock:
            hit = self._verified.get(token)
            if hit is not None:
                if now <= hit[0] + LEEWAY_SECONDS:
                    return hit[1]
                del self._verified[token]
        identity, expires = self._verify_uncached(token)
        with self._lock:
            self._verified[token] = (expires, identity)
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return identity

    def _verify_uncached(self, token: str) -> tuple[Identity, float]:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise jwt.InvalidAlgorithmError("algorithm not allowed")
        key = self._keys.get(str(header.get("kid", "")))
        if key is None:
            raise jwt.InvalidTokenError("unknown kid")
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],  # pinned: never let the token choose (alg=none, key confusion)
            issuer=ISSUER,
            audience=self.audience,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
        version = claims["sv"]
        if not isinstance(claims["sub"], str) or not isinstance(version, int) or isinstance(version, bool):
            raise jwt.InvalidTokenError("malformed claims")
        return Identity(claims["sub"], (), version), float(claims["exp"])
