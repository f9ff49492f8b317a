"""Refresh tokens: opaque (`<id>.<secret>`), stored as a keyed hash, rotated on every use, revocable.

Each login starts a family; each refresh retires the token it was given and issues the next in the same
family (same deadline). A retired token presented again means it was copied: the whole family is revoked,
so whichever of the thief and the user comes second is logged out, and the reuse is audited (OAuth 2.0
Security BCP, refresh token rotation).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from crm_platform.db import utcnow
from gateway.identity.keyed_hash import KeyedHash
from gateway.schema import RefreshToken

SECRET_BYTES = 32


@dataclass(frozen=True)
class Rotation:
    """The outcome of presenting a refresh token."""

    user_id: str | None = None  # set when the token was good
    token: str | None = None  # its successor
    reused_family: str | None = None  # set when a retired token came back (family now revoked)
    expires_at: datetime | None = None


def issue(
    session: Session,
    hasher: KeyedHash,
    user_id: str,
    *,
    ttl_seconds: int | None = None,
    family_id: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[str, datetime]:
    now = utcnow()
    if expires_at is None:
        assert ttl_seconds is not None
        expires_at = now + timedelta(seconds=ttl_seconds)
    token_id, secret = str(uuid.uuid4()), secrets.token_urlsafe(SECRET_BYTES)
    session.add(
        RefreshToken(
            id=token_id,
            family_id=family_id or str(uuid.uuid4()),
            user_id=user_id,
            secret_hash=hasher.digest(secret),
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return f"{token_id}.{secret}", expires_at


def _find(session: Session, hasher: KeyedHash, token: str) -> RefreshToken | None:
    token_id, _, secret = token.partition(".")
    if not token_id or not secret or len(token_id) > 36:
        return None
    row = session.get(RefreshToken, token_id)
    if row is None or not hasher.matches(secret, row.secret_hash):
        return None
    return row


def rotate(session: Session, hasher: KeyedHash, token: str) -> Rotation:
    """Retire `token` and issue its successor; commit the session whatever the outcome (a reuse must
    stay revoked)."""
    row = _find(session, hasher, token)
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return Rotation()
    retired = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.rotated_at.is_(None))
        .values(rotated_at=now)
    ).rowcount
    if retired != 1:  # already rotated: by an earlier call, or by a concurrent one that won the race
        revoke_family(session, row.family_id)
        return Rotation(reused_family=row.family_id, user_id=None)
    successor, expires_at = issue(
        session, hasher, row.user_id, family_id=row.family_id, expires_at=row.expires_at
    )
    return Rotation(user_id=row.user_id, token=successor, expires_at=expires_at)


def owner_of_family(session: Session, family_id: str) -> str | None:
    row = session.query(RefreshToken.user_id).filter(RefreshToken.family_id == family_id).first()
    return row[0] if row else None


def revoke_family(session: Session, family_id: str) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_token(session: Session, hasher: KeyedHash, token: str) -> str | None:
    """Logout: revokes the token's family; returns its user id, or None for a token we do not know."""
    row = _find(session, hasher, token)
    if row is None:
        return None
    revoke_family(session, row.family_id)
    return row.user_id


def revoke_user(session: Session, user_id: str) -> None:
    """Deactivation, password change or reset: every session of the user ends."""
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
