"""Login throttling per account and per client address, shared by every worker through the database.

Each key (the hashed email; the client address) may fail `free` times within the window. After that,
each further attempt must wait 1, 2, 4, 8 ... seconds (capped at the window) after the last failure;
an attempt that comes sooner is answered 429 with Retry-After and its password is not even checked, so
guessing gets exponentially slower while a user who mistyped a few times is not held up. Unknown emails
are throttled exactly like real ones (the answer must not reveal which exist). A success clears the
account's count, not the address's (one address may be an attacker trying many accounts).

Trade-off, stated: throttling per account lets someone slow down a victim's logins by failing on
purpose; the delay is progressive and bounded by the window, not a permanent lockout.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crm_platform.db import reading, transaction, utcnow
from gateway.identity.housekeeping import maybe_purge
from gateway.schema import LoginThrottle as ThrottleRow


@dataclass(frozen=True)
class ThrottlePolicy:
    account_free: int = 5
    address_free: int = 30
    window_seconds: int = 900


def account_key(email: str) -> str:
    # Hashed: the table is not a list of attempted emails.
    return "acct:" + hashlib.sha256(email.encode()).hexdigest()[:40]


def address_key(address: str) -> str:
    return "addr:" + address[:64]


class LoginThrottle:
    def __init__(self, sessions: sessionmaker[Session], policy: ThrottlePolicy) -> None:
        self._sessions = sessions
        self.policy = policy

    def _keys(self, email: str, address: str) -> dict[str, int]:
        return {account_key(email): self.policy.account_free, address_key(address): self.policy.address_free}

    def retry_after(self, email: str, address: str) -> int:
        """Seconds the caller must wait before this attempt is allowed (0: go ahead)."""
        limits = self._keys(email, address)
        now = utcnow()
        with reading(self._sessions) as session:
            rows = session.scalars(select(ThrottleRow).where(ThrottleRow.key.in_(limits))).all()
        wait = 0.0
        for row in rows:
            if self._expired(row, now):
                continue
            excess = row.failures - limits[row.key]
            if excess < 0:
                continue
            delay = min(2.0**excess, self.policy.window_seconds)
            wait = max(wait, (row.last_failure_at + timedelta(seconds=delay) - now).total_seconds())
        return math.ceil(wait) if wait > 0 else 0

    def _expired(self, row: ThrottleRow, now: datetime) -> bool:
        return now - row.last_failure_at > timedelta(seconds=self.policy.window_seconds)

    def record_failure(self, email: str, address: str) -> None:
        maybe_purge(self._sessions, self.policy.window_seconds)
        for attempt in range(2):
            try:
                with transaction(self._sessions) as session:
                    self._count(session, list(self._keys(email, address)))
                return
            except IntegrityError:  # a concurrent first failure inserted the row: count again
                if attempt:
                    raise

    def _count(self, session: Session, keys: list[str]) -> None:
        now = utcnow()
        for key in keys:
            row = session.get(ThrottleRow, key)
            if row is None:
                session.add(ThrottleRow(key=key, failures=1, first_failure_at=now, last_failure_at=now))
            elif self._expired(row, now):
                row.failures, row.first_failure_at, row.last_failure_at = 1, now, now
            else:
                row.failures += 1
                row.last_failure_at = now
        session.flush()

    def record_success(self, email: str) -> None:
        with transaction(self._sessions) as session:
            session.execute(delete(ThrottleRow).where(ThrottleRow.key == account_key(email)))
