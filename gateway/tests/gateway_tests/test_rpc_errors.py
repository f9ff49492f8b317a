"""Failed service calls become the HTTP status that says the same thing."""

from __future__ import annotations

import json

import grpc
import pytest

from crm_platform.errors import FIELD_ERRORS_KEY
from gateway.rpc_errors import problem_from_rpc_error


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str = "", trailers: tuple = ()) -> None:
        self._code, self._details, self._trailers = code, details, trailers

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple:
        return self._trailers


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.FAILED_PRECONDITION, 409),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.INVALID_ARGUMENT, 422),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.INTERNAL, 502),
        (grpc.StatusCode.UNKNOWN, 502),
    ],
)
def test_status_codes_map_to_http(code: grpc.StatusCode, status: int) -> None:
    assert problem_from_rpc_error(FakeRpcError(code, "detail"), "contacts").status == status


def test_internal_details_are_not_passed_on() -> None:
    problem = problem_from_rpc_error(FakeRpcError(grpc.StatusCode.INTERNAL, "psycopg: relation x"), "sales")
    assert "psycopg" not in problem.detail and "sales" in problem.detail


def test_invalid_argument_lists_the_fields_from_the_trailers() -> None:
    trailers = ((FIELD_ERRORS_KEY, json.dumps({"email": "is not valid", "phone": "too short"})),)
    problem = problem_from_rpc_error(
        FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, "invalid contact", trailers), "contacts"
    )
    assert problem.errors == [
        {"field": "email", "message": "is not valid"},
        {"field": "phone", "message": "too short"},
    ]


def test_unavailable_suggests_a_retry() -> None:
    problem = problem_from_rpc_error(FakeRpcError(grpc.StatusCode.UNAVAILABLE), "support")
    assert problem.headers["Retry-After"] == "1"
