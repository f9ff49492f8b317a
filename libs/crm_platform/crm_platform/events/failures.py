"""Telling apart why handling an event failed, because each cause needs a different answer.

- transient: the infrastructure the handler needs is away (database, a gRPC peer, the network). The
  event is fine; retry it in place, after a back-off, for as long as it takes, spending none of its
  retry budget (otherwise an outage would park every good event in the DLQ).
- poison: the event can never be processed (unparseable, invalid payload, a version we do not know).
  Retrying cannot help: dead-letter it at once, saying why.
- bug: anything else, most likely a defect in the handler. Retry with back-off up to the budget (a
  deploy or a fix elsewhere may heal it), then dead-letter.
"""

from __future__ import annotations

import enum

import grpc
from sqlalchemy import exc as sa_exc

from crm_platform.events.wire import MalformedEvent


class PoisonEvent(Exception):
    """Raise from a handler for an event it can never process (a payload that fails validation): the
    event goes to the dead-letter queue at once, with this message as the reason."""


class UnknownVersion(PoisonEvent):
    """The event's schema version is not one the subscription declared it understands."""


class Fault(enum.Enum):
    TRANSIENT = "transient"
    POISON = "poison"
    BUG = "bug"


_TRANSIENT_GRPC_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}
)


_LOCAL_FILE_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError)


def classify(error: BaseException) -> Fault:
    """What kind of failure `error` is; a handler wrapping an error (`raise X from cause`) is judged by
    the whole chain, so wrapping a lost connection does not turn it into a bug."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (PoisonEvent, MalformedEvent)):
            return Fault.POISON
        if _is_transient(current):
            return Fault.TRANSIENT
        current = current.__cause__
    return Fault.BUG


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    # OperationalError: the database is down, refused us, timed out or is locked; DisconnectionError
    # and TimeoutError (pool exhausted) come from the pool. None of them is about the event.
    if isinstance(error, (sa_exc.OperationalError, sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True
    if isinstance(error, _LOCAL_FILE_ERRORS):
        return False  # about a path the handler got wrong, not an outage: waiting will not fix it
    if isinstance(error, (OSError, ConnectionError)):
        return True
    if isinstance(error, grpc.RpcError) and hasattr(error, "code"):
        try:
            return error.code() in _TRANSIENT_GRPC_CODES
        except Exception:  # an RpcError without a usable status: not evidence of an outage
            return False
    return False
