"""The caller of the request being served: verified once by the server, read by stores and methods.

`CallerContextCheck` runs in the gRPC server's interceptor for every RPC except health and reflection:
it verifies the `x-crm-caller` metadata and makes the caller current for the handler's thread; a call
without one, or with a forged or expired one, is UNAUTHENTICATED before any service code runs.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from crm_platform.access.caller import (
    METADATA_KEY,
    CallerContext,
    CallerContextVerifier,
    InvalidCallerContext,
)
from crm_platform.access.keys import ReloadingKeys
from crm_platform.errors import Unauthenticated

_current: contextvars.ContextVar[CallerContext | None] = contextvars.ContextVar("crm_caller", default=None)

# RPCs anyone may call: probes and tooling, which reveal no records.
OPEN_SERVICES = (
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
)


def current_caller() -> CallerContext:
    caller = _current.get()
    if caller is None:
        raise Unauthenticated("no caller context")
    return caller


def current_caller_or_none() -> CallerContext | None:
    return _current.get()


@contextmanager
def acting_as(caller: CallerContext) -> Iterator[CallerContext]:
    """Make `caller` current for the block (request handling, an event handler acting for its actor)."""
    token = _current.set(caller)
    try:
        yield caller
    finally:
        _current.reset(token)


class CallerContextCheck:
    def __init__(self, verifier: CallerContextVerifier | None = None) -> None:
        self.verifier = verifier or CallerContextVerifier(ReloadingKeys())

    @staticmethod
    def is_open(method: str) -> bool:
        return method.lstrip("/").split("/", 1)[0] in OPEN_SERVICES

    def caller_from(self, metadata: Sequence[tuple[str, Any]] | None) -> CallerContext:
        """The verified caller in call metadata; raises Unauthenticated."""
        token = next((v for k, v in metadata or () if k == METADATA_KEY), None)
        if not token:
            raise Unauthenticated("this service needs a caller context (x-crm-caller) signed by the gateway")
        try:
            return self.verifier.verify(str(token))
        except InvalidCallerContext as exc:
            raise Unauthenticated(str(exc)) from None
