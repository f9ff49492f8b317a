"""`Idempotency-Key`, honoured by the service in its own write transaction.

The gateway forwards the header as gRPC metadata `idempotency-key`. In one transaction the service
1. claims the key: inserts (caller, key, method, request hash) before doing anything else. A second call
   with the same key meets the unique key and waits for the first transaction (PostgreSQL: the insert
   waits on the index entry; SQLite: BEGIN IMMEDIATE queues writers), then finds the committed claim;
2. does the work;
3. stores the serialized response in the claim, and commits all of it together.
So a retry of a committed call replays its response (with initial metadata `idempotent-replayed: true`)
instead of repeating it, a retry that arrives while the first call still runs waits for it, and a call
that fails rolls its claim back with everything else: failures are not remembered, a retry runs again.
The same key with a different request (another method, or other fields) is IDEMPOTENCY_KEY_REUSED.
Claims expire after RETENTION; expired ones are purged a bounded batch at a time, at most once per
PURGE_INTERVAL per process.

    with idempotent_write(self.sessions, context, request, contacts_pb2.Contact) as write:
        if write.replay is not None:
            return write.replay
        contact = store.add_contact(write.session, ...)
        return write.respond(to_message(contact))
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import grpc
from google.protobuf.message import Message
from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from crm_platform.access.context import current_caller_or_none
from crm_platform.db import transaction, utcnow
from crm_platform.errors import FailedPrecondition, IdempotencyKeyReused, InvalidArgument
from crm_platform.resources._sql import insert_ignore
from crm_platform.resources.schema import TABLES

R = TypeVar("R", bound=Message)

METADATA_KEY = "idempotency-key"
REPLAYED_METADATA = (("idempotent-replayed", "true"),)
MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)
PURGE_INTERVAL_SECONDS = 60.0
PURGE_BATCH = 500

_keys = TABLES.idempotency_keys
_purged_at: dict[str, float] = {}
_purge_lock = threading.Lock()


def request_hash(method: str, request: Message) -> str:
    return hashlib.sha256(
        method.encode() + b"\x00" + request.SerializeToString(deterministic=True)
    ).hexdigest()


def idempotency_key(context: grpc.ServicerContext) -> str:
    """The call's idempotency key, or "" when it has none."""
    for key, value in context.invocation_metadata() or ():
        if key == METADATA_KEY:
            text = value.decode() if isinstance(value, bytes) else str(value)
            if len(text) > MAX_KEY_LENGTH:
                raise InvalidArgument(
                    "idempotency key too long", {METADATA_KEY: f"must be at most {MAX_KEY_LENGTH} characters"}
                )
            return text
    return ""


class IdempotentWrite(Generic[R]):
    """The open write transaction of one call: `session` for the work, `replay` when the key was
    already used for this very request (then do no work: return it), `respond` to finish."""

    def __init__(self, session: Session, claim: tuple[str, str] | None, replay: R | None) -> None:
        self.session = session
        self.replay = replay
        self._claim = claim
        self.responded = replay is not None

    def respond(self, message: R) -> R:
        """Store the response with the claim (committed with the work) and return it."""
        if self.replay is not None:
            raise RuntimeError("this call is a replay: return write.replay instead of doing the work again")
        if self._claim is not None:
            user_id, key = self._claim
            self.session.execute(
                update(_keys)
                .where(_keys.c.user_id == user_id, _keys.c.key == key)
                .values(response=message.SerializeToString(deterministic=True))
            )
        self.responded = True
        return message


def _claim(session: Session, user_id: str, key: str, method: str, digest: str, now: datetime) -> Any:
    """Insert the claim, or return the committed claim another call holds (None: ours is in)."""
    for _ in range(3):
        if insert_ignore(
            session,
            _keys,
            {"user_id": user_id, "key": key, "method": method, "request_hash": digest, "created_at": now},
        ):
            return None
        row = session.execute(
            select(_keys).where(_keys.c.user_id == user_id, _keys.c.key == key)
        ).one_or_none()
        if row is None:  # purged between our insert and select: claim it again
            continue
        if row.created_at >= now - RETENTION:
            return row
        # Expired but not purged yet: it no longer counts.
        session.execute(delete(_keys).where(_keys.c.user_id == user_id, _keys.c.key == key))
    raise FailedPrecondition("the idempotency key is being claimed by concurrent calls; retry")


@contextmanager
def idempotent_write(
    sessions: sessionmaker[Session],
    context: grpc.ServicerContext,
    request: Message,
    response_type: type[R],
    *,
    method: str = "",
) -> Iterator[IdempotentWrite[R]]:
    """A write transaction that honours the call's idempotency key (a plain transaction without one).

    `method` names the RPC in the request hash; by default the request message's full name, which is
    one per method in our contracts (gRPC's Python servicer context does not expose the method name).
    """
    key = idempotency_key(context)
    if not key:
        with transaction(sessions) as session:
            yield IdempotentWrite(session, None, None)
        return
    caller = current_caller_or_none()
    user_id = caller.subject if caller is not None else ""
    method = method or request.DESCRIPTOR.full_name
    digest = request_hash(method, request)
    purge_expired_now_and_then(sessions)
    with transaction(sessions) as session:
        now = utcnow()
        held = _claim(session, user_id, key, method, digest, now)
        if held is None:
            write: IdempotentWrite[R] = IdempotentWrite(session, (user_id, key), None)
        elif held.request_hash != digest:
            raise IdempotencyKeyReused(
                "this idempotency key was used for a different request; use a new key for a new request",
                metadata={"method": held.method},
            )
        elif held.response is None:  # cannot happen: a claim commits only with its response
            raise FailedPrecondition("the request with this idempotency key did not complete; use a new key")
        else:
            replay = response_type.FromString(held.response)
            context.send_initial_metadata(REPLAYED_METADATA)
            write = IdempotentWrite(session, None, replay)
        yield write
        if not write.responded:
            raise RuntimeError("idempotent_write ended without write.respond(...)")


def purge_expired(
    sessions: sessionmaker[Session], *, now: datetime | None = None, limit: int = PURGE_BATCH
) -> int:
    """Delete up to `limit` expired claims in a short transaction of their own; returns how many."""
    cutoff = (now or utcnow()) - RETENTION
    with transaction(sessions) as session:
        expired = session.execute(
            select(_keys.c.user_id, _keys.c.key).where(_keys.c.created_at < cutoff).limit(limit)
        ).all()
        if expired:
            session.execute(
                delete(_keys).where(tuple_(_keys.c.user_id, _keys.c.key).in_([tuple(row) for row in expired]))
            )
    return len(expired)


def purge_expired_now_and_then(sessions: sessionmaker[Session]) -> None:
    """`purge_expired`, at most once per PURGE_INTERVAL_SECONDS per database in this process: cheap
    enough to call on every keyed write, and bounded, so no call pays for a backlog."""
    bind = sessions.kw.get("bind")
    name = bind.url.render_as_string(hide_password=True) if bind is not None else ""
    with _purge_lock:
        now = time.monotonic()
        if now - _purged_at.get(name, float("-inf")) < PURGE_INTERVAL_SECONDS:
            return
        _purged_at[name] = now
    purge_expired(sessions)
