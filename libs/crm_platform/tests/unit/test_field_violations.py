"""Field violations: gathered from several checks into one INVALID_ARGUMENT, cut to what a gRPC client
accepts in a trailer (names and descriptions shortened, the rest counted in ErrorInfo), and the NUL
character found in any text of a request."""

from __future__ import annotations

import pytest
from google.rpc import error_details_pb2

from crm.contacts.v1 import contacts_pb2
from crm_platform.errors import MAX_VIOLATIONS_BYTES, InvalidArgument, NotFound, to_status
from crm_platform.validation import FieldViolations, nul_violations


def test_violations_of_several_checks_are_one_answer_each_field_named_by_its_first_check() -> None:
    violations = FieldViolations({"email": "must be a valid email address"})
    with violations.collecting():
        raise InvalidArgument("domain", {"email": "is taken", "phone": "is not a number"})
    with violations.collecting():
        pass
    with pytest.raises(InvalidArgument) as caught:
        violations.raise_any("invalid contact")
    assert caught.value.fields == {"email": "must be a valid email address", "phone": "is not a number"}
    with pytest.raises(NotFound), violations.collecting():  # not a field error: not gathered
        raise NotFound("gone")
    with pytest.raises(InvalidArgument), violations.collecting():  # names no field: raised as it is
        raise InvalidArgument("no fields")
    FieldViolations().raise_any("nothing wrong")  # nothing to answer


def test_thousands_of_violations_fit_a_trailer_and_say_how_many_were_left_out() -> None:
    error = InvalidArgument("bad", {f"custom_fields.{'n' * 500}{i}": "d" * 1000 for i in range(2000)})
    status = to_status(error)
    [(_, details)] = [entry for entry in status.trailing_metadata if entry[0] == "grpc-status-details-bin"]
    assert len(details) < 2 * MAX_VIOLATIONS_BYTES
    bad, info = error_details_pb2.BadRequest(), None
    for detail in error.details():
        if isinstance(detail, error_details_pb2.BadRequest):
            bad = detail
        elif isinstance(detail, error_details_pb2.ErrorInfo):
            info = detail
    kept = len(bad.field_violations)
    assert 0 < kept < 2000 and info is not None
    assert int(info.metadata["omitted_violations"]) == 2000 - kept
    assert all(len(v.field) <= 120 and len(v.description) <= 300 for v in bad.field_violations)
    small = InvalidArgument("bad", {"email": "must be a valid email address"})
    assert [(v.field, v.description) for v in small.details()[1].field_violations] == [
        ("email", "must be a valid email address")
    ]


def test_the_nul_character_is_found_in_any_text_at_any_depth_and_named_as_errors_name_fields() -> None:
    clean = contacts_pb2.CreateContactRequest(first_name="Ada", tags=["a"], emails=[{"address": ""}])
    clean.custom_fields.update({"score": 0, "empty": ""})  # zero bytes on the wire, no NUL in a text
    assert nul_violations(clean) == {}
    bad = contacts_pb2.UpdateContactRequest(
        contact=contacts_pb2.Contact(id="a\x00", tags=["ok", "b\x00"], emails=[{"address": "\x00"}])
    )
    bad.contact.custom_fields.update({"nick": "x\x00", "deep": {"list": [1, "\x00"]}, "k\x00": 1})
    assert set(nul_violations(bad)) == {
        "contact.id",
        "contact.tags",
        "contact.emails[0].address",
        "contact.custom_fields.nick",
        "contact.custom_fields.deep.list[1]",
        "contact.custom_fields",
    }
