"""The relay lease: which one of a database's relays may publish its outbox.

Every `serve` and `worker` process runs a relay, but only the holder of the unexpired lease on the
`relay_lease` row publishes; the others check about every second and take over once the lease has
expired (its holder died without releasing it) or was released (clean stop).

Taking and renewing is one compare-and-set UPDATE (`holder = me OR the lease expired`), so two relays can
never both succeed. A row, not a PostgreSQL session advisory lock, because a lease row works through
PgBouncer in transaction mode, where consecutive transactions may run on different server connections
and a session lock would be held (or released) on a connection the relay no longer uses. It works the
same on SQLite.

Expiry times are written with the holder's clock: hosts sharing a database must keep their clocks in
sync (NTP) to well within the TTL.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from crm_platform.db import READ_ONLY

log = logging.getLogger(__name__)


def holder_id() -> str:
    """`host:pid:random`: unique per relay, and says which process holds the lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class RelayLease:
    """The lease on one `relay_lease` row, as seen by one relay (used from the relay's thread only)."""

    def __init__(
        self, engine: Engine, lease_table: Table, name: str, *, ttl: float, holder: str | None = None
    ) -> None:
        if ttl <= 0:
            raise ValueError("the lease TTL must be positive")
        self._engine = engine
        self._table = lease_table
        self._name = name
        self.ttl = ttl
        self.holder = holder or holder_id()
        # monotonic time of the start of the last successful take/renew; None while not holding.
        self._renewed_at: float | None = None

    @property
    def held(self) -> bool:
        """Whether we hold it, by our own reckoning (no database round trip)."""
        return self._renewed_at is not None and time.monotonic() - self._renewed_at < self.ttl

    def fresh(self) -> bool:
        """Held with at least a third of the TTL left, by our own reckoning: the relay may send on it
        without a database round trip while its keeper thread renews it (see `OutboxRelay`)."""
        return self._renewed_at is not None and time.monotonic() - self._renewed_at < 2 * self.ttl / 3

    def hold(self) -> bool:
        """Take or renew the lease if due and say whether we hold it.

        Renewal happens once a third of the TTL has passed since the last one, so a holder that gets True
        has at least two thirds of the TTL before anyone else can take over: enough for one batch, whose
        confirm wait is bounded by TTL/3. This is the fence the relay checks before every batch.
        """
        started = time.monotonic()
        if self._renewed_at is not None and started - self._renewed_at < self.ttl / 3:
            return True
        if self._renewed_at is None and not self._looks_free():
            return False  # a read, so waiting relays do not take SQLite's write lock every second
        now = datetime.now(UTC)
        lease = self._table
        with self._engine.begin() as conn:
            taken = conn.execute(
                update(lease)
                .where(
                    lease.c.name == self._name,
                    (lease.c.holder == self.holder)
                    | lease.c.holder.is_(None)
                    | lease.c.expires_at.is_(None)
                    | (lease.c.expires_at < now),
                )
                .values(holder=self.holder, expires_at=now + timedelta(seconds=self.ttl))
            ).rowcount
        was_held = self._renewed_at is not None
        self._renewed_at = started if taken == 1 else None
        if taken == 1 and not was_held:
            log.info("outbox relay %s took the relay lease", self.holder)
        elif taken != 1 and was_held:
            log.warning("outbox relay %s lost the relay lease; it stops publishing", self.holder)
        return taken == 1

    def release(self) -> None:
        """Give the lease up (clean stop) so another relay takes over at its next check."""
        if self._renewed_at is None:
            return
        self._renewed_at = None
        lease = self._table
        with self._engine.begin() as conn:
            conn.execute(
                update(lease)
                .where(lease.c.name == self._name, lease.c.holder == self.holder)
                .values(holder=None, expires_at=None)
            )
        log.info("outbox relay %s released the relay lease", self.holder)

    def _looks_free(self) -> bool:
        lease = self._table
        with self._engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            row = conn.execute(
                select(lease.c.holder, lease.c.expires_at).where(lease.c.name == self._name)
            ).first()
        if row is None:
            self._insert_row()
            return True
        return row.holder is None or row.expires_at is None or row.expires_at < datetime.now(UTC)

    def _insert_row(self) -> None:
        # Migrations insert the row; a database made with metadata.create_all (tests) may not have it.
        dialect = self._engine.dialect.name
        upsert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](self._table)
        with self._engine.begin() as conn:
            conn.execute(
                upsert.values(name=self._name, holder=None, expires_at=None).on_conflict_do_nothing(
                    index_elements=[self._table.c.name]
                )
            )
