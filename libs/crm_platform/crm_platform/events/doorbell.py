"""The outbox doorbell: a commit that recorded events wakes the relay holding the lease, in any process.

The relay polls the outbox every 10 ms while events flow, but after a second of quiet it backs off to a
poll every 250 ms (a poll costs CPU, and five idle services polling fast were measured to cost a 2-core
machine a sixth of its throughput). Without a cross-process signal, the first events after a quiet spell
waited up to those 250 ms whenever they were committed by another process than the lease holder's, which
is the normal case (requests commit in `serve`, the relay holding the lease usually runs in `worker`):
measured, that start-up wait was the whole tail of commit-to-consumed latency (bench/bench_relay.py).

The doorbell is a hint, never the only path: a lost ring costs at most one idle poll interval.

- PostgreSQL: `record_event` issues `NOTIFY crm_outbox` in the recording transaction (once per
  transaction), which PostgreSQL delivers only if and when it commits; the lease holder LISTENs on a
  connection of its own. LISTEN needs a session of its own, which PgBouncer's transaction mode does not
  give: behind it (`?pgbouncer=true`) the relay listens on `CRM_RELAY_LISTEN_URL` (a direct URL to the
  same database) when set, and otherwise only polls.
- SQLite (one machine by nature): after the commit, the writer sends one empty datagram to a Linux
  abstract Unix socket named after the database file; the lease holder binds that name. Nothing is left
  on disk, and a send with nobody bound fails at once and is ignored.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from crm_platform import config
from crm_platform.postgres import PGBOUNCER_OPTION

log = logging.getLogger(__name__)

CHANNEL = "crm_outbox"

RELAY_LISTEN_URL = config.Setting(
    "CRM_RELAY_LISTEN_URL",
    str,
    default="",
    help="direct PostgreSQL URL of the service's database on which the relay LISTENs for new outbox "
    "rows when the database URL goes through PgBouncer (transaction mode cannot LISTEN); empty: poll only",
)

# session.info key: this transaction already issued its NOTIFY.
_NOTIFIED = "crm_platform.events.notified"
# How long a listener blocks before it looks at its stop flag; also the retry delay after an error.
_WAIT = 1.0
_NOTIFY = text(f"NOTIFY {CHANNEL}")


def notify_in_transaction(session: Session) -> None:
    """On PostgreSQL, make `session`'s transaction ring the doorbell when (and only if) it commits.

    The mark names the transaction, not just the session: a session reused for a later transaction
    without `install`'s hooks (which clear it) still notifies in that one."""
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_NOTIFIED) is transaction:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_NOTIFY)
    session.info[_NOTIFIED] = session.get_transaction()


def ring_after_commit(session: Session) -> None:
    """After a commit that recorded events: on SQLite, ring the database's doorbell."""
    session.info.pop(_NOTIFIED, None)
    address = _sqlite_address(session.get_bind())
    if address is not None:
        _ring(address)


def forget_on_rollback(session: Session) -> None:
    session.info.pop(_NOTIFIED, None)


def _sqlite_address(bind: Any) -> bytes | None:
    engine = getattr(bind, "engine", bind)
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return _address_for(os.path.realpath(database))


def _address_for(path: str) -> bytes:
    # The abstract namespace (leading NUL) is Linux's; the hash keeps the name short and per database.
    return b"\0crm-outbox-" + hashlib.sha256(path.encode()).hexdigest()[:32].encode()


_sender_lock = threading.Lock()
_sender: socket.socket | None = None


def _ring(address: bytes) -> None:
    global _sender
    try:
        with _sender_lock:
            if _sender is None:
                _sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                _sender.setblocking(False)
            _sender.sendto(b"", address)
    except OSError:
        # Nobody listening (no relay holds the lease, or not on Linux), or its queue is full (it is
        # awake already): the relay's poll finds the rows either way.
        pass


def install(target: Any) -> None:
    """Ring after every commit of a session from `target` (a sessionmaker or Session class) that
    recorded events; `record_event` marks those. Installing twice is harmless."""
    if sa_event.contains(target, "after_commit", _after_commit):
        return
    sa_event.listen(target, "after_commit", _after_commit)
    sa_event.listen(target, "after_rollback", forget_on_rollback)


def _after_commit(session: Session) -> None:
    if session.info.get(_NOTIFIED):
        ring_after_commit(session)


class DoorbellListener:
    """Calls `on_ring` (from a thread of its own) when a commit in any process rang this database's bell.

    Opened by the relay while it holds the lease and closed when it stops holding it, so that on SQLite
    exactly the holder is bound to the address. `open` never raises: without a bell the relay polls.
    """

    def __init__(self, engine: Engine, on_ring: Callable[[], None]) -> None:
        self._engine = engine
        self._on_ring = on_ring
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_open(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def open(self) -> None:
        """Listen (again); called on every relay cycle that holds the lease, so it must be cheap."""
        if self.is_open:
            self._stopping.clear()  # closed a moment ago and not gone yet: it simply goes on
            return
        target = self._target()
        if target is None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=target, name="outbox-doorbell", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 0.0) -> None:
        """Stop listening within about a second; wait up to `timeout` for it (the relay's own stop)."""
        self._stopping.set()
        if self._thread is not None and timeout > 0:
            self._thread.join(timeout)

    def _target(self) -> Callable[[], None] | None:
        dialect = self._engine.dialect.name
        if dialect == "sqlite":
            address = _sqlite_address(self._engine)
            return None if address is None else lambda: self._listen_socket(address)
        if dialect == "postgresql":
            url = self._listen_url()
            return None if url is None else lambda: self._listen_postgres(url)
        return None

    def _listen_url(self) -> str | None:
        direct = RELAY_LISTEN_URL.get()
        if direct:
            return direct
        if self._engine.get_execution_options().get(PGBOUNCER_OPTION):
            return None
        return self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def _listen_socket(self, address: bytes) -> None:
        while not self._stopping.is_set():
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as bell:
                    bell.bind(address)
                    bell.settimeout(_WAIT)
                    self._serve_socket(bell)
            except OSError as exc:
                # Bound by a relay that just lost the lease and has not closed yet: try again shortly.
                log.debug("outbox doorbell cannot listen on its socket yet: %s", exc)
                self._stopping.wait(_WAIT)

    def _serve_socket(self, bell: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                bell.recv(1)
            except TimeoutError:
                continue
            _drain(bell)
            self._on_ring()

    def _listen_postgres(self, url: str) -> None:
        import psycopg  # only PostgreSQL deployments need it

        while not self._stopping.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._on_ring()  # rows committed before LISTEN took effect are found by this poll
                    while not self._stopping.is_set():
                        if any(True for _ in connection.notifies(timeout=_WAIT, stop_after=1)):
                            _drain_notifies(connection)
                            self._on_ring()
            except psycopg.Error as exc:
                log.warning("outbox doorbell lost its PostgreSQL connection (the relay polls): %s", exc)
                self._stopping.wait(_WAIT)


def _drain(bell: socket.socket) -> None:
    """Many commits rang while the relay was busy: one wake-up covers them all."""
    bell.setblocking(False)
    try:
        while True:
            bell.recv(1)
    except OSError:
        pass
    finally:
        bell.settimeout(_WAIT)


def _drain_notifies(connection: Any) -> None:
    for _ in connection.notifies(timeout=0):
        pass
