"""Users of the gateway: the store, password hashing and the bootstrap admin."""

from __future__ import annotations

import functools
import logging
import secrets
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crm_platform.db import transaction, utcnow
from gateway.schema import User

log = logging.getLogger(__name__)

ADMIN = "admin"
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@dataclass(frozen=True)
class Identity:
    """Who a verified password or token belongs to."""

    user_id: str
    roles: tuple[str, ...]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


class Authenticator:
    """Checks email + password. Unknown emails cost as much as wrong passwords: a dummy hash is verified
    so that response time does not reveal which emails have accounts."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        # Made now, not on the first unknown email, so that first answer is not the slow one.
        self._dummy_hash = _dummy_hash()

    def authenticate(self, email: str, password: str) -> Identity | None:
        with transaction(self.sessions) as session:
            user = session.scalar(select(User).where(User.email == normalise_email(email)))
            if user is None or not user.is_active:
                _verify(self._dummy_hash, password)
                return None
            if not _verify(user.password_hash, password):
                return None
            if _hasher.check_needs_rehash(user.password_hash):
                # Parameters were raised since this hash was made; upgrade it while we know the password.
                user.password_hash = _hasher.hash(password)
            return Identity(user.id, tuple(user.roles))


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))  # one per process: hashing is deliberately slow


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(session: Session, email: str, password: str, roles: tuple[str, ...]) -> User:
    user = User(
        id=str(uuid.uuid4()),
        email=normalise_email(email),
        password_hash=hash_password(password),
        roles=list(roles),
        is_active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def ensure_bootstrap_admin(sessions: sessionmaker[Session], email: str, password: str) -> bool:
    """Creates the admin when the database has no user yet; returns whether it did.

    Runs once per start, in the gunicorn master, so workers never race to create it."""
    try:
        with transaction(sessions) as session:
            if session.scalar(select(func.count()).select_from(User)):
                return False
            if not (email and password):
                missing = " and ".join(
                    name
                    for name, value in (("CRM_ADMIN_EMAIL", email), ("CRM_ADMIN_PASSWORD", password))
                    if not value
                )
                log.warning(
                    "no user exists and %s not set: nobody can obtain a token until an admin is created "
                    "(set both and restart the gateway)",
                    missing + (" are" if " and " in missing else " is"),
                )
                return False
            create_user(session, email, password, (ADMIN,))
    except IntegrityError:  # another replica created it first
        return False
    log.info("bootstrap admin created", extra={"email": normalise_email(email)})
    return True
