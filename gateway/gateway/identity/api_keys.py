"""API keys for integrations: `crm_<prefix>_<secret>`, shown once, stored as HMAC-SHA256 under the
server pepper (keyed_hash.py says why not argon2), scoped per service, revocable, last use recorded.

A request with a key: the prefix finds the row (cached per worker for GATEWAY_IDENTITY_CACHE_SECONDS, so
a revocation or expiry takes effect within that time), the keyed hash of the whole key must match in
constant time. Last use is written at most once a minute per key and worker, in a short transaction.
"""

from __future__ import annotations

import functools
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from crm_platform.access import ACTIONS, Level, resource_types
from crm_platform.db import reading, transaction, utcnow
from gateway.identity.keyed_hash import KeyedHash
from gateway.identity.ttl_cache import TtlCache
from gateway.schema import ApiKey

KEY_PREFIX = "crm"
PREFIX_BYTES = 6  # 12 hex characters: public, only to find the row
SECRET_BYTES = 32  # 256 bits: the part that makes the key unguessable
KEY_SHAPE = re.compile(r"^crm_([0-9a-f]{12})_([A-Za-z0-9_-]{40,64})$")
LAST_USE_INTERVAL_SECONDS = 60
SCOPE_ACCESS = ("read", "write")
# Which service serves which domain of the rights registry (crm_platform.access.rights).
SERVICE_OF_DOMAIN = {
    "crm": "contacts",
    "sales": "sales",
    "marketing": "marketing",
    "support": "support",
    "notifications": "notifications",
}
SERVICES = tuple(sorted(set(SERVICE_OF_DOMAIN.values())))


def scope_problem(scope: str) -> str | None:
    service, _, access = scope.partition(":")
    if service not in SERVICES or access not in SCOPE_ACCESS:
        return f"{scope!r} is not <service>:read or <service>:write (services: {', '.join(SERVICES)})"
    return None


@functools.lru_cache(maxsize=1024)
def rights_of_scopes(scopes: tuple[str, ...]) -> dict[str, dict[str, Level]]:
    """`<service>:read` -> read every record of that service's types; `<service>:write` -> every action.

    Shared per scope set (do not change the result)."""
    granted: dict[str, str] = {}
    for scope in scopes:
        service, _, access = scope.partition(":")
        if granted.get(service) != "write":
            granted[service] = access
    rights: dict[str, dict[str, Level]] = {}
    for name, resource in resource_types().items():
        access = granted.get(SERVICE_OF_DOMAIN.get(resource.domain, ""))
        if access == "write":
            rights[name] = {a: Level.ALL for a in ACTIONS}
        elif access == "read":
            rights[name] = {a: Level.ALL if a == "read" else Level.NONE for a in ACTIONS}
    return rights


def new_key() -> tuple[str, str]:
    """(prefix, whole key)."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    return prefix, f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


def looks_like_key(credential: str) -> bool:
    return credential.startswith(f"{KEY_PREFIX}_")


@dataclass(frozen=True)
class KeyState:
    key_id: str
    secret_hash: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    revoked: bool

    def usable(self, now: datetime) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


def create_key(
    session: Session,
    hasher: KeyedHash,
    *,
    name: str,
    scopes: tuple[str, ...],
    expires_at: datetime | None,
    created_by: str,
) -> tuple[ApiKey, str]:
    prefix, key = new_key()
    row = ApiKey(
        id=str(uuid.uuid4()),
        prefix=prefix,
        name=name,
        secret_hash=hasher.digest(key),
        scopes=list(scopes),
        created_by=created_by,
        created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row, key


class ApiKeyVerifier:
    def __init__(self, sessions: sessionmaker[Session], hasher: KeyedHash, ttl_seconds: float) -> None:
        self._sessions = sessions
        self._hasher = hasher
        self._states: TtlCache[str, KeyState | None] = TtlCache(self._load, ttl_seconds)
        self._last_written: dict[str, float] = {}
        self._lock = threading.Lock()

    def _load(self, prefix: str) -> KeyState | None:
        with reading(self._sessions) as session:
            row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if row is None:
            return None
        return KeyState(
            row.id, row.secret_hash, tuple(row.scopes), row.expires_at, row.revoked_at is not None
        )

    def verify(self, key: str) -> KeyState | None:
        """The key's state when the key is genuine, unrevoked and unexpired; None otherwise."""
        shape = KEY_SHAPE.match(key)
        if shape is None:
            return None
        state = self._states.get(shape.group(1))
        if state is None or not self._hasher.matches(key, state.secret_hash):
            return None
        if not state.usable(utcnow()):
            return None
        self._record_use(state.key_id)
        return state

    def forget(self, prefix: str) -> None:
        self._states.forget(prefix)

    def _record_use(self, key_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last_written.get(key_id, float("-inf")) < LAST_USE_INTERVAL_SECONDS:
                return
            self._last_written[key_id] = now
        used_at = utcnow()
        with transaction(self._sessions) as session:
            # Other workers write too; the condition keeps it to about one write a minute per key overall.
            session.execute(
                update(ApiKey)
                .where(
                    ApiKey.id == key_id,
                    or_(
                        ApiKey.last_used_at.is_(None),
                        ApiKey.last_used_at < used_at - timedelta(seconds=LAST_USE_INTERVAL_SECONDS),
                    ),
                )
                .values(last_used_at=used_at)
            )
