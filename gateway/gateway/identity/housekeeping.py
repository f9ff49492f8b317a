"""Deleting what identity no longer needs: login-throttle rows past their window and refresh tokens past
their expiry. Done now and then by the requests that add such rows (about one in PURGE_ONE_IN), so the
tables stay bounded without a scheduler, and in batches so no purge holds the write lock for long."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from crm_platform.db import transaction, utcnow
from gateway.schema import LoginThrottle, RefreshToken

PURGE_ONE_IN = 100
BATCH = 500


def maybe_purge(sessions: sessionmaker[Session], throttle_window_seconds: int) -> None:
    if secrets.randbelow(PURGE_ONE_IN):
        return
    purge(sessions, throttle_window_seconds)


def purge(sessions: sessionmaker[Session], throttle_window_seconds: int) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        stale = select(LoginThrottle.key).where(
            LoginThrottle.last_failure_at < now - timedelta(seconds=throttle_window_seconds)
        )
        session.execute(
            delete(LoginThrottle).where(LoginThrottle.key.in_(stale.limit(BATCH).scalar_subquery()))
        )
        expired = select(RefreshToken.id).where(RefreshToken.expires_at < now)
        session.execute(
            delete(RefreshToken).where(RefreshToken.id.in_(expired.limit(BATCH).scalar_subquery()))
        )
