"""Domain errors, and the one place where they become gRPC status codes.

Domain and store code raise these; the gRPC server interceptor turns them into statuses, and the gateway
turns statuses into problem+json. Field-level detail travels in trailing metadata as JSON so the gateway
can name the bad fields without a shared error proto.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import grpc

FIELD_ERRORS_KEY = "crm-field-errors"


class DomainError(Exception):
    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(DomainError):
    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields: dict[str, str] = dict(fields or {})


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(DomainError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(DomainError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(DomainError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(DomainError):
    code = grpc.StatusCode.UNAUTHENTICATED


def trailing_metadata(error: DomainError) -> tuple[tuple[str, str], ...]:
    if isinstance(error, InvalidArgument) and error.fields:
        return ((FIELD_ERRORS_KEY, json.dumps(error.fields)),)
    return ()


def field_errors_from(rpc_error: grpc.RpcError) -> dict[str, str]:
    """The field errors a server attached to a failed call, or {}."""
    trailers = rpc_error.trailing_metadata() if hasattr(rpc_error, "trailing_metadata") else None
    for key, value in trailers or ():
        if key == FIELD_ERRORS_KEY:
            try:
                decoded = json.loads(value)
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in decoded.items()} if isinstance(decoded, dict) else {}
    return {}
