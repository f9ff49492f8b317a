"""HMAC-SHA256 under a server pepper: how API keys and refresh tokens are stored.

Both secrets are 256 random bits made by the server, so nobody can guess them and a slow hash (argon2)
would add nothing against brute force while costing ~30 ms and 19 MiB on every API call. What a slow hash
protects, low-entropy human passwords, is not the threat here; a database leak is, and the pepper (kept
in the environment, never in the database) makes the stored hashes useless without it.
"""

from __future__ import annotations

import hashlib
import hmac


class KeyedHash:
    def __init__(self, pepper: str) -> None:
        self._pepper = pepper.encode()

    @classmethod
    def derived(cls, jwt_secret: str) -> KeyedHash:
        """A pepper derived from the JWT key, for installations that set no pepper of their own."""
        return cls(hmac.new(jwt_secret.encode(), b"crm-gateway api-key pepper", hashlib.sha256).hexdigest())

    def digest(self, secret: str) -> str:
        return hmac.new(self._pepper, secret.encode(), hashlib.sha256).hexdigest()

    def matches(self, secret: str, stored: str) -> bool:
        return hmac.compare_digest(self.digest(secret), stored)
