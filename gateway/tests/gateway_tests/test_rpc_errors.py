"""Failed service calls become the HTTP status that says the same thing: the one table in rpc_errors.py.

The statuses are the real rich ones (`crm_platform.errors.to_status` of each domain error, details in the
`grpc-status-details-bin` trailer): first read from a stand-in call, then sent by a real gRPC server
that aborts, behind the real gateway over real HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

import crm_platform.errors as domain_errors
from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm_platform.errors import (
    Aborted,
    AlreadyExists,
    BusinessRuleRefused,
    DomainError,
    EtagMismatch,
    FailedPrecondition,
    IdempotencyKeyReused,
    InvalidArgument,
    MergedInto,
    Moved,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
    to_status,
)
from gateway.problems import problem_type
from gateway.rpc_errors import problem_from_rpc_error


class FakeRpcError(grpc.RpcError):
    """What a failed call looks like to the gateway: code, message and trailers."""

    def __init__(self, code: grpc.StatusCode, message: str, trailers: Any = ()) -> None:
        self._code, self._message, self._trailers = code, message, tuple(trailers or ())

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._message

    def trailing_metadata(self) -> tuple[tuple[str, Any], ...]:
        return self._trailers


def plain(code: grpc.StatusCode, message: str = "") -> FakeRpcError:
    """A status without rich details, as a server that is not ours (or a proxy) sends it."""
    return FakeRpcError(code, message)


def from_status(status: grpc.Status) -> FakeRpcError:
    return FakeRpcError(status.code, status.details, status.trailing_metadata)


def rich(error: DomainError) -> FakeRpcError:
    """The call failed with the status the chassis' interceptor sends for this domain error."""
    return from_status(to_status(error))


# Every domain error the chassis raises -> (HTTP status, problem type slug, reason in the problem).
DOMAIN_ERRORS: dict[type[DomainError], tuple[DomainError, int, str]] = {
    NotFound: (
        NotFound("contact c1 not found", resource_type="contact", resource_name="c1"),
        404,
        "not-found",
    ),
    # Without a request path naming the record it is plainly not found (the 308 is tested below).
    Moved: (Moved("contact", "c1", "c2"), 404, "not-found"),
    AlreadyExists: (AlreadyExists("a contact with this email exists"), 409, "conflict"),
    FailedPrecondition: (FailedPrecondition("the contact is archived"), 409, "conflict"),
    # A write to a merged record: a conflict naming the survivor (`moved_to`), never a redirect.
    MergedInto: (MergedInto("contact", "c1", "c2"), 409, "conflict"),
    BusinessRuleRefused: (
        BusinessRuleRefused("the order exceeds the credit limit", reason="CREDIT_LIMIT_EXCEEDED"),
        422,
        "business-rule",
    ),
    Aborted: (Aborted("another change got in the way; try again"), 409, "conflict"),
    EtagMismatch: (EtagMismatch("the contact changed", subject="contacts/c1"), 412, "precondition-failed"),
    IdempotencyKeyReused: (
        IdempotencyKeyReused("the Idempotency-Key was used for another request"),
        422,
        "idempotency-key-reused",
    ),
    InvalidArgument: (InvalidArgument("bad contact", {"email": "is not an email"}), 422, "validation-error"),
    PermissionDenied: (PermissionDenied("sales may not archive contacts"), 403, "forbidden"),
    Unauthenticated: (Unauthenticated("who are you?"), 401, "unauthorized"),
    # A service this one depends on did not answer: the service's own words, and a retry hint.
    Unavailable: (Unavailable("the contacts service did not answer"), 503, "service-unavailable"),
}


def test_every_domain_error_of_the_chassis_has_a_case_here() -> None:
    def subclasses(cls: type) -> set[type]:
        return {cls} | {sub for child in cls.__subclasses__() for sub in subclasses(child)}

    chassis = {cls for cls in subclasses(DomainError) if cls.__module__ == domain_errors.__name__}
    assert chassis - {DomainError} == set(DOMAIN_ERRORS)


@pytest.mark.parametrize("kind", list(DOMAIN_ERRORS), ids=lambda kind: kind.__name__)
def test_domain_errors_map_to_their_status_with_the_services_message(kind: type[DomainError]) -> None:
    error, status, slug = DOMAIN_ERRORS[kind]
    problem = problem_from_rpc_error(rich(error), "contacts")
    assert (problem.status, problem.type) == (status, problem_type(slug))
    assert problem.detail == error.message  # written by the service for callers
    # A write to a merged record also says where the record went.
    moved = {"moved_to": {"type": "contact", "id": "c2"}} if kind is MergedInto else {}
    assert problem.extra == {"reason": error.reason, **moved}
    assert ("Retry-After" in problem.headers) == (status == 503)


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/api/v1/contacts/c1", "/api/v1/contacts/c2"),
        ("/api/v1/contacts/c1/history", "/api/v1/contacts/c2/history"),
        ("/api/v1/companies/c1:merge", "/api/v1/companies/c2:merge"),
    ],
)
def test_a_moved_record_is_a_308_to_the_record_it_went_into(path: str, location: str) -> None:
    problem = problem_from_rpc_error(rich(Moved("contact", "c1", "c2")), "contacts", path=path)
    assert (problem.status, problem.type) == (308, problem_type("moved"))
    assert problem.headers["Location"] == location
    assert problem.extra == {"reason": "MOVED", "moved_to": {"type": "contact", "id": "c2"}}


def test_a_moved_record_the_path_does_not_name_is_not_found() -> None:
    problem = problem_from_rpc_error(rich(Moved("contact", "c1", "c2")), "contacts", path="/api/v1/x/c9")
    assert problem.status == 404 and "Location" not in problem.headers


def test_an_etag_precondition_is_412_even_without_error_info() -> None:
    status = status_pb2.Status(code=grpc.StatusCode.FAILED_PRECONDITION.value[0], message="stale")
    detail = error_details_pb2.PreconditionFailure(
        violations=[error_details_pb2.PreconditionFailure.Violation(type="ETAG")]
    )
    status.details.add().Pack(detail)
    problem = problem_from_rpc_error(from_status(rpc_status.to_status(status)), "contacts")
    assert problem.status == 412 and problem.extra == {}


def test_field_violations_become_the_errors_list() -> None:
    error = InvalidArgument("bad contact", {"email": "is not an email", "phone": "has letters"})
    problem = problem_from_rpc_error(rich(error), "contacts")
    assert problem.status == 422 and problem.title == "Request validation failed"
    assert problem.errors == [
        {"field": "email", "message": "is not an email"},
        {"field": "phone", "message": "has letters"},
    ]


def test_fields_of_a_body_field_are_named_as_the_client_sent_them() -> None:
    error = InvalidArgument("bad contact", {"contact.first_name": "too long", "update_mask": "unknown path"})
    problem = problem_from_rpc_error(rich(error), "contacts", body_field="contact")
    assert problem.errors == [
        {"field": "first_name", "message": "too long"},
        {"field": "update_mask", "message": "unknown path"},
    ]


@pytest.mark.parametrize(
    ("fields", "addressing", "body_field", "status"),
    [
        ({"limit": "must be at most 200"}, {"limit", "cursor"}, "", 400),
        ({"limit": "too big", "cursor": "not ours"}, {"limit", "cursor"}, "", 400),
        ({"limit": "too big", "email": "bad"}, {"limit"}, "", 422),
        ({"id": "too long"}, {"id"}, "", 400),
        ({"contact.id": "too long"}, {"contact.id", "update_mask"}, "contact", 400),
        ({"contact.id": "too long", "contact.email": "bad"}, {"contact.id"}, "contact", 422),
        ({"email": "bad"}, set(), "", 422),
    ],
)
def test_invalid_addressing_fields_are_400_and_invalid_content_422(
    fields: dict[str, str], addressing: set[str], body_field: str, status: int
) -> None:
    problem = problem_from_rpc_error(
        rich(InvalidArgument("invalid", fields)),
        "contacts",
        body_field=body_field,
        addressing_fields=frozenset(addressing),
    )
    assert problem.status == status
    assert problem.type == problem_type("bad-request" if status == 400 else "validation-error")
    assert problem.errors and len(problem.errors) == len(fields)


def test_invalid_argument_without_field_violations_is_422() -> None:
    problem = problem_from_rpc_error(plain(grpc.StatusCode.INVALID_ARGUMENT, "bad"), "contacts")
    assert problem.status == 422 and problem.errors is None and problem.detail == "bad"


@pytest.mark.parametrize(
    ("code", "status", "slug"),
    [
        (grpc.StatusCode.NOT_FOUND, 404, "not-found"),
        (grpc.StatusCode.ALREADY_EXISTS, 409, "conflict"),
        (grpc.StatusCode.ABORTED, 409, "conflict"),
        (grpc.StatusCode.FAILED_PRECONDITION, 409, "conflict"),
        (grpc.StatusCode.PERMISSION_DENIED, 403, "forbidden"),
        (grpc.StatusCode.UNAUTHENTICATED, 401, "unauthorized"),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429, "too-many-requests"),
        (grpc.StatusCode.OUT_OF_RANGE, 400, "bad-request"),
        (grpc.StatusCode.INVALID_ARGUMENT, 422, "validation-error"),
    ],
)
def test_plain_statuses_map_by_code_and_pass_the_message(
    code: grpc.StatusCode, status: int, slug: str
) -> None:
    problem = problem_from_rpc_error(plain(code, "what the service said"), "contacts")
    assert (problem.status, problem.type) == (status, problem_type(slug))
    assert problem.detail == "what the service said" and problem.extra == {}


@pytest.mark.parametrize(
    ("code", "status", "slug"),
    [
        (grpc.StatusCode.UNAVAILABLE, 503, "service-unavailable"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504, "timeout"),
        (grpc.StatusCode.UNIMPLEMENTED, 501, "not-implemented"),
        (grpc.StatusCode.UNKNOWN, 502, "upstream-error"),
        (grpc.StatusCode.INTERNAL, 502, "upstream-error"),
        (grpc.StatusCode.DATA_LOSS, 502, "upstream-error"),
        (grpc.StatusCode.CANCELLED, 502, "upstream-error"),
    ],
)
def test_failures_name_the_service_but_never_pass_its_message(
    code: grpc.StatusCode, status: int, slug: str
) -> None:
    problem = problem_from_rpc_error(plain(code, "psycopg: relation secret_table at 10.0.0.3"), "sales")
    assert (problem.status, problem.type) == (status, problem_type(slug))
    assert "psycopg" not in problem.detail and "10.0.0.3" not in problem.detail
    assert "sales" in problem.detail
    assert problem.headers == ({"Retry-After": "1"} if status == 503 else {})


def test_a_rich_unknown_error_does_not_leak_its_reason_either() -> None:
    error = DomainError("stack trace with secrets")
    error.reason = "SECRET_REASON"
    problem = problem_from_rpc_error(rich(error), "support")
    assert problem.status == 502 and "secrets" not in problem.detail and problem.extra == {}


def test_details_that_contradict_the_code_are_ignored() -> None:
    status = to_status(EtagMismatch("stale"))
    lying = FakeRpcError(grpc.StatusCode.NOT_FOUND, "stale", status.trailing_metadata)
    problem = problem_from_rpc_error(lying, "contacts")
    assert problem.status == 404 and problem.extra == {}


# --- the same table, from a real gRPC server behind the real gateway -------------------------------


class _Aborting(contacts_pb2_grpc.ContactsServiceServicer):
    """GetContact fails as its id says; UpdateContact with the violations named in the body's company;
    DeleteContact is not implemented at all."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def GetContact(self, request: contacts_pb2.GetContactRequest, context: grpc.ServicerContext) -> Any:
        if request.id == "crash":
            raise RuntimeError("psycopg: relation secret_table")
        if request.id == "unavailable":
            context.abort(grpc.StatusCode.UNAVAILABLE, "database at 10.0.0.3 is down")
        if request.id == "slow":
            self.release.wait(10)
            return contacts_pb2.Contact(id="slow")
        raise next(error for kind, (error, _, _) in DOMAIN_ERRORS.items() if kind.__name__ == request.id)

    def UpdateContact(self, request: contacts_pb2.UpdateContactRequest, context: grpc.ServicerContext) -> Any:
        fields = dict(item.split("=", 1) for item in request.contact.company.split(","))
        raise InvalidArgument("the contact breaks the rules", fields)

    def ListContacts(self, request: contacts_pb2.ListContactsRequest, context: grpc.ServicerContext) -> Any:
        raise InvalidArgument("bad page", {"cursor": "is not a cursor this API returned"})


@pytest.fixture
def aborting(raw_server, own_gateway) -> Iterator[Any]:
    release = threading.Event()
    server = raw_server(
        "contacts", lambda s: contacts_pb2_grpc.add_ContactsServiceServicer_to_server(_Aborting(release), s)
    )
    running = own_gateway({"contacts": f"127.0.0.1:{server.port}"}, call_deadline_seconds=0.5)
    client = running.client()
    yield client
    release.set()
    client.http.close()


def test_a_real_servers_rich_statuses_reach_the_client_as_problem_json(aborting) -> None:
    for kind, (error, status, slug) in DOMAIN_ERRORS.items():
        problem = aborting.assert_problem(aborting.get(f"/api/v1/contacts/{kind.__name__}"), status)
        assert problem["type"] == problem_type(slug), kind
        assert problem["detail"] == error.message and problem["reason"] == error.reason
        assert problem["trace_id"]
        if isinstance(error, InvalidArgument):
            assert problem["errors"] == [{"field": f, "message": m} for f, m in error.fields.items()]


def test_a_real_servers_failures_are_answered_without_their_details(aborting) -> None:
    for contact_id, status, retry_after in [
        ("crash", 502, None),
        ("unavailable", 503, "1"),
        ("slow", 504, None),
    ]:
        reply = aborting.get(f"/api/v1/contacts/{contact_id}")
        problem = aborting.assert_problem(reply, status)
        assert "psycopg" not in reply.text and "10.0.0.3" not in reply.text
        assert "internal error" not in reply.text
        assert "contacts" in problem["detail"] and "reason" not in problem
        assert reply.headers.get("Retry-After") == retry_after


def test_an_unimplemented_method_is_501(aborting) -> None:
    problem = aborting.assert_problem(aborting.request("DELETE", "/api/v1/contacts/c1"), 501)
    assert problem["type"] == problem_type("not-implemented") and "contacts" in problem["detail"]


def test_a_bad_query_parameter_found_by_the_service_is_400(aborting) -> None:
    problem = aborting.assert_problem(aborting.get("/api/v1/contacts", params={"cursor": "abc"}), 400)
    assert problem["errors"] == [{"field": "cursor", "message": "is not a cursor this API returned"}]


def test_a_patch_names_the_fields_as_the_body_and_path_spell_them(aborting) -> None:
    for violations, status, named in [
        ("contact.first_name=too long", 422, ["first_name"]),
        ("contact.first_name=too long,contact.email=bad", 422, ["first_name", "email"]),
        ("contact.id=too long", 400, ["id"]),  # the path's {id}: it addresses the contact
        ("contact.id=too long,contact.email=bad", 422, ["id", "email"]),
    ]:
        reply = aborting.request("PATCH", "/api/v1/contacts/c1", json={"company": violations})
        problem = aborting.assert_problem(reply, status)
        assert [e["field"] for e in problem["errors"]] == named
