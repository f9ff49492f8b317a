"""What a failed gRPC call means to the HTTP client: status codes that say the same thing.

Domain messages (not found, already exists, invalid field) are written by the services for callers and
are passed on; anything unexpected is logged and answered without its details.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import grpc

from crm_platform.errors import field_errors_from
from gateway.problems import Problem, problem_type, validation_problem

log = logging.getLogger(__name__)

_PASSED_ON = {
    grpc.StatusCode.NOT_FOUND: (404, "not-found"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "conflict"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "conflict"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "forbidden"),
}


def problem_from_rpc_error(error: grpc.RpcError, service: str) -> Problem:
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = (error.details() if hasattr(error, "details") else "") or ""
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        fields = field_errors_from(error)
        return validation_problem(fields, message or "The request is not valid.")
    if code in _PASSED_ON:
        status, slug = _PASSED_ON[code]
        return Problem(status, message or "The request could not be completed.", type=problem_type(slug))
    if code == grpc.StatusCode.UNAVAILABLE:
        log.warning("%s service unavailable: %s", service, message)
        return Problem(
            503,
            f"The {service} service is unavailable; try again shortly.",
            type=problem_type("service-unavailable"),
            headers={"Retry-After": "1"},
        )
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        log.warning("%s service did not answer within the deadline", service)
        return Problem(504, f"The {service} service did not answer in time.", type=problem_type("timeout"))
    log.error("%s service failed: %s %s", service, code, message)
    return Problem(502, f"The {service} service failed to answer.", type=problem_type("upstream-error"))


@contextmanager
def service_call(service: str) -> Iterator[None]:
    """Turns a failed gRPC call inside the block into the matching problem."""
    try:
        yield
    except grpc.RpcError as error:
        raise problem_from_rpc_error(error, service) from None
