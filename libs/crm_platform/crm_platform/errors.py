"""Domain errors, and the one place where they become gRPC statuses with Google's rich error details.

Domain and store code raise these; the gRPC server interceptor turns them into a `google.rpc.Status`
(code, message and typed details: `BadRequest` field violations, `PreconditionFailure`, `ErrorInfo`,
`ResourceInfo`) carried in the `grpc-status-details-bin` trailer, the standard any gRPC client in any
language can read. The gateway maps the same details to RFC 9457 problem+json in one table
(gateway/gateway/rpc_errors.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

# ErrorInfo.domain of every error the platform raises.
ERROR_DOMAIN = "crm"


class DomainError(Exception):
    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN
    # ErrorInfo.reason: UPPER_SNAKE, stable, what a program branches on (AIP-193).
    reason: str = ""

    def __init__(self, message: str, *, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata = dict(metadata or {})

    def details(self) -> list[Message]:
        details: list[Message] = []
        if self.reason:
            details.append(
                error_details_pb2.ErrorInfo(reason=self.reason, domain=ERROR_DOMAIN, metadata=self.metadata)
            )
        return details


# The details travel in a trailer (grpc-status-details-bin), which gRPC clients refuse beyond 8 KiB (soft
# limit) or 16 KiB (hard): a request with hundreds of bad fields (unknown custom fields, say, each named
# as sent) would reach the client as RESOURCE_EXHAUSTED instead of its field errors. So the violations
# are cut to a budget, each name and description to a length, and ErrorInfo says how many were left out.
MAX_VIOLATIONS_BYTES = 4096
MAX_FIELD_CHARS = 120
MAX_DESCRIPTION_CHARS = 300


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


class InvalidArgument(DomainError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "INVALID_ARGUMENT"

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields: dict[str, str] = dict(fields or {})

    def details(self) -> list[Message]:
        bad = error_details_pb2.BadRequest()
        for name, text in self.fields.items():
            violation = error_details_pb2.BadRequest.FieldViolation(
                field=_cut(name, MAX_FIELD_CHARS), description=_cut(text, MAX_DESCRIPTION_CHARS)
            )
            if bad.ByteSize() + violation.ByteSize() > MAX_VIOLATIONS_BYTES:
                self.metadata["omitted_violations"] = str(len(self.fields) - len(bad.field_violations))
                break
            bad.field_violations.append(violation)
        return [*super().details(), bad]


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND
    reason = "NOT_FOUND"

    def __init__(self, message: str, *, resource_type: str = "", resource_name: str = "") -> None:
        super().__init__(message)
        self.resource_type = resource_type
        self.resource_name = resource_name

    def details(self) -> list[Message]:
        details = super().details()
        if self.resource_type:
            details.append(
                error_details_pb2.ResourceInfo(
                    resource_type=self.resource_type, resource_name=self.resource_name
                )
            )
        return details


class Moved(NotFound):
    """The record asked for is gone into another one (merged into a survivor): NOT_FOUND, with ErrorInfo
    reason MOVED (metadata `moved_from`: the id asked for) and ResourceInfo naming the record to ask for
    instead. The gateway answers it with 308 and the survivor's Location (gateway/gateway/rpc_errors.py).
    Raise it only when the caller may read the survivor; otherwise the record is plainly not found."""

    reason = "MOVED"

    def __init__(self, resource_type: str, moved_from: str, moved_to: str) -> None:
        super().__init__(
            f"{resource_type} {moved_from} was merged into {moved_to}",
            resource_type=resource_type,
            resource_name=moved_to,
        )
        self.metadata = {"moved_from": moved_from}


class AlreadyExists(DomainError):
    """A value that must be unique is taken. `existing_id` names the record holding it (ResourceInfo), to
    be given only when the caller may read that record: otherwise the conflict would reveal it."""

    code = grpc.StatusCode.ALREADY_EXISTS
    reason = "ALREADY_EXISTS"

    def __init__(
        self, message: str, *, resource_type: str = "", existing_id: str = "", description: str = ""
    ) -> None:
        super().__init__(message)
        self.resource_type = resource_type
        self.existing_id = existing_id
        self.description = description

    def details(self) -> list[Message]:
        details = super().details()
        if self.existing_id:
            details.append(
                error_details_pb2.ResourceInfo(
                    resource_type=self.resource_type,
                    resource_name=self.existing_id,
                    description=self.description,
                )
            )
        return details


class FailedPrecondition(DomainError):
    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "FAILED_PRECONDITION"


class MergedInto(FailedPrecondition):
    """A write addressed to a record that was merged into another (a tombstone): refused, changing
    nothing, with ErrorInfo reason MERGED (metadata `merged_into`) and ResourceInfo naming the survivor,
    so the client can send it there on purpose (a write meant for one record never silently lands on
    another, whose state the client has not seen). Like Moved, raise it only when the caller may read the
    survivor; otherwise the record is plainly not found."""

    reason = "MERGED"

    def __init__(self, resource_type: str, merged_id: str, survivor_id: str) -> None:
        super().__init__(
            f"{resource_type} {merged_id} was merged into {survivor_id}; write to that one instead",
            metadata={"merged_into": survivor_id},
        )
        self.resource_type = resource_type
        self.survivor_id = survivor_id

    def details(self) -> list[Message]:
        info = error_details_pb2.ResourceInfo(
            resource_type=self.resource_type, resource_name=self.survivor_id
        )
        return [*super().details(), info]


class EtagMismatch(FailedPrecondition):
    """The caller's etag is not the resource's current one: it changed since the caller read it."""

    reason = "ETAG_MISMATCH"
    precondition_type = "ETAG"

    def __init__(self, message: str, *, subject: str = "") -> None:
        super().__init__(message)
        self.subject = subject

    def details(self) -> list[Message]:
        violation = error_details_pb2.PreconditionFailure.Violation(
            type=self.precondition_type, subject=self.subject, description=self.message
        )
        return [*super().details(), error_details_pb2.PreconditionFailure(violations=[violation])]


class BusinessRuleRefused(FailedPrecondition):
    """A well-formed request a business rule refuses (a credit limit, a price missing from a list): what a
    program branches on is `reason` (ErrorInfo, UPPER_SNAKE, e.g. CREDIT_LIMIT_EXCEEDED, with metadata);
    the PreconditionFailure of type BUSINESS_RULE makes the gateway answer a 422 problem carrying it."""

    precondition_type = "BUSINESS_RULE"

    def __init__(self, message: str, *, reason: str, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message, metadata=metadata)
        self.reason = reason

    def details(self) -> list[Message]:
        violation = error_details_pb2.PreconditionFailure.Violation(
            type=self.precondition_type, subject=self.reason, description=self.message
        )
        return [*super().details(), error_details_pb2.PreconditionFailure(violations=[violation])]


class IdempotencyKeyReused(FailedPrecondition):
    """The same idempotency key came with a different request."""

    reason = "IDEMPOTENCY_KEY_REUSED"


class Aborted(DomainError):
    """A concurrent change got in the way (a lock not granted in time, a deadlock broken by the
    database): nothing was changed, and trying again may succeed."""

    code = grpc.StatusCode.ABORTED
    reason = "ABORTED"


class Unavailable(DomainError):
    """A service this one depends on did not answer (unreachable, or not within the call's timeout):
    nothing was done, and trying again later may succeed."""

    code = grpc.StatusCode.UNAVAILABLE
    reason = "UNAVAILABLE"


class PermissionDenied(DomainError):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    code = grpc.StatusCode.UNAUTHENTICATED
    reason = "UNAUTHENTICATED"


def to_status(error: DomainError) -> grpc.Status:
    """The rich status a servicer aborts with (`context.abort_with_status`)."""
    status = status_pb2.Status(code=_CODE_NUMBERS[error.code], message=error.message)
    for detail in error.details():
        status.details.add().Pack(detail)
    return rpc_status.to_status(status)


_CODE_NUMBERS = {code: code.value[0] for code in grpc.StatusCode}
assert _CODE_NUMBERS[grpc.StatusCode.INVALID_ARGUMENT] == code_pb2.INVALID_ARGUMENT


@dataclass(frozen=True)
class ErrorDetails:
    """What a failed call's rich status says, unpacked (empty where the server attached nothing)."""

    reason: str = ""
    metadata: Mapping[str, str] | None = None
    field_violations: tuple[tuple[str, str], ...] = ()
    precondition_types: tuple[str, ...] = ()
    resource_type: str = ""
    resource_name: str = ""


def details_from(rpc_error: grpc.RpcError) -> ErrorDetails:
    """The details a server attached to a failed call."""
    try:
        status = rpc_status.from_call(rpc_error)  # type: ignore[arg-type]
    except (ValueError, AttributeError):  # a status whose details contradict its code: ignore them
        return ErrorDetails()
    if status is None:
        return ErrorDetails()
    reason, metadata = "", None
    fields: list[tuple[str, str]] = []
    preconditions: list[str] = []
    resource_type = resource_name = ""
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields.extend((v.field, v.description) for v in bad.field_violations)
        elif detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
            failure = error_details_pb2.PreconditionFailure()
            detail.Unpack(failure)
            preconditions.extend(v.type for v in failure.violations)
        elif detail.Is(error_details_pb2.ResourceInfo.DESCRIPTOR):
            info_r = error_details_pb2.ResourceInfo()
            detail.Unpack(info_r)
            resource_type, resource_name = info_r.resource_type, info_r.resource_name
    return ErrorDetails(reason, metadata, tuple(fields), tuple(preconditions), resource_type, resource_name)


def field_errors_from(rpc_error: grpc.RpcError) -> dict[str, str]:
    """The field violations a server attached to a failed call, or {}."""
    return dict(details_from(rpc_error).field_violations)
