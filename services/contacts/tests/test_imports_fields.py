"""Cells to contract fields, from the descriptors alone: whatever fields a message has are importable,
whatever their type (scalars, enums, repeated scalars, messages and lists of them as JSON)."""

from __future__ import annotations

from contacts.imports.fields import check_mapping, fill, suggest_mapping
from crm.contacts.v1 import companies_pb2, contacts_pb2, imports_pb2


def test_scalars_enums_and_repeated_scalars_are_decoded_as_the_rest_api_does() -> None:
    job = imports_pb2.ImportJob()
    problems = fill(job, {"state": "running", "rows_total": " 12 ", "dry_run": "yes", "columns": "a; b;;c"})
    assert problems == {}
    assert (job.state, job.rows_total, job.dry_run, list(job.columns)) == (
        imports_pb2.IMPORT_STATE_RUNNING,
        12,
        True,
        ["a", "b", "c"],
    )
    assert set(fill(imports_pb2.ImportJob(), {"rows_total": "many", "dry_run": "perhaps"})) == {
        "rows_total",
        "dry_run",
    }


def test_messages_and_lists_of_them_come_as_json_cells() -> None:
    company = companies_pb2.CreateCompanyRequest()
    assert fill(company, {"address": '{"city": "Paris", "country": "fr"}'}) == {}
    assert (company.address.city, company.address.country) == ("Paris", "fr")
    page = contacts_pb2.ListContactsResponse()
    assert fill(page, {"items": '{"first_name": "Ada"}'}) == {}  # one object for a list: a list of one
    assert [c.first_name for c in page.items] == ["Ada"]
    assert fill(contacts_pb2.ListContactsResponse(), {"items": "Ada"}) == {
        "items": 'must be JSON, e.g. [{"...": ...}]'
    }
    mapped = imports_pb2.ImportJob()
    assert fill(mapped, {"mapping": '{"E-mail": "email"}'}) == {}
    assert dict(mapped.mapping) == {"E-mail": "email"}


def test_a_mapping_names_columns_of_the_file_and_fields_once() -> None:
    fields = ["email", "first_name"]
    assert check_mapping(
        {"A": "email", "B": "email", "C": "x", "Z": "first_name"}, ["A", "B", "C"], fields
    ) == {
        "mapping.B": "email is already mapped from 'A'",
        "mapping.C": "'x' is not a field; one of: email, first_name",
        "mapping.Z": "is not a column of the file",
    }
    assert suggest_mapping(["Email", "E-mail"], fields) == {"Email": "email"}  # each field once
