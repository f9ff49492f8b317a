"""Fault classification: what is waited out in place, what is poison, what is a bug."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import exc as sa_exc

from crm_platform.events import MalformedEvent, PoisonEvent
from crm_platform.events.failures import Fault, UnknownVersion, classify


class _Rpc(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


def _wrapped(error: BaseException) -> RuntimeError:
    try:
        raise RuntimeError("handler wrapped it") from error
    except RuntimeError as wrapper:
        return wrapper


@pytest.mark.parametrize(
    "error",
    [
        sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly")),
        sa_exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
        sa_exc.TimeoutError("QueuePool limit reached"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
        _Rpc(grpc.StatusCode.UNAVAILABLE),
        _Rpc(grpc.StatusCode.DEADLINE_EXCEEDED),
        _Rpc(grpc.StatusCode.RESOURCE_EXHAUSTED),
        _wrapped(ConnectionResetError(104, "reset")),
    ],
    ids=repr,
)
def test_outages_are_transient(error):
    assert classify(error) is Fault.TRANSIENT


@pytest.mark.parametrize(
    "error",
    [
        MalformedEvent("body is not JSON"),
        PoisonEvent("no email"),
        UnknownVersion("v2"),
        _wrapped(PoisonEvent("x")),
    ],
    ids=repr,
)
def test_events_that_can_never_succeed_are_poison(error):
    assert classify(error) is Fault.POISON


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("bug"),
        KeyError("contact_id"),
        sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
        sa_exc.DBAPIError("SELECT 1", {}, Exception("syntax error"), connection_invalidated=False),
        FileNotFoundError(2, "No such file", "/templates/welcome.txt"),
        _Rpc(grpc.StatusCode.INVALID_ARGUMENT),
    ],
    ids=repr,
)
def test_everything_else_is_a_bug(error):
    assert classify(error) is Fault.BUG
