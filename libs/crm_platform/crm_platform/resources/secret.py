"""Per-service secrets (e.g. the key that signs list cursors), kept in the service's own database.

Every replica of a service must use the same key, the key must not live in code, and nobody should have
to provision it: the first replica that needs it stores 32 random bytes in `platform_secrets`; the others
read that row. Racing first replicas both insert-or-ignore, and both then read the one that won.
"""

from __future__ import annotations

import secrets
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_platform.db import reading, transaction, utcnow
from crm_platform.resources._sql import insert_ignore
from crm_platform.resources.schema import TABLES

SECRET_BYTES = 32

_secrets = TABLES.platform_secrets
_cache: dict[tuple[str, str], bytes] = {}
_lock = threading.Lock()


def _stored(session: Session, name: str) -> bytes | None:
    return session.scalar(select(_secrets.c.value).where(_secrets.c.name == name))


def load_or_create(sessions: sessionmaker[Session], name: str) -> bytes:
    """The stored secret `name`, storing a new random one first if there is none (uncached)."""
    with reading(sessions) as session:  # the common case takes no write lock
        value = _stored(session, name)
    if value is None:
        with transaction(sessions) as session:
            insert_ignore(
                session,
                _secrets,
                {"name": name, "value": secrets.token_bytes(SECRET_BYTES), "created_at": utcnow()},
            )
            value = _stored(session, name)  # ours, or the one a racing replica committed first
    if value is None:
        raise RuntimeError(f"secret {name!r} could not be stored")
    return bytes(value)


def service_secret(sessions: sessionmaker[Session], name: str) -> bytes:
    """The service's secret called `name`, created on first use; cached for the life of the process
    (secrets are never rotated in place: a new one gets a new name)."""
    bind = sessions.kw.get("bind")
    database = bind.url.render_as_string(hide_password=False) if bind is not None else ""
    cache_key = (database, name)
    with _lock:  # held while loading: once per process and name, and no thread loads it twice
        if cache_key not in _cache:
            _cache[cache_key] = load_or_create(sessions, name)
        return _cache[cache_key]
