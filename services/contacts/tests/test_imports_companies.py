"""Imports of companies (`resource=companies`): the same job machinery as contacts' (imports/rows.py with
the companies' Adapter), so a column mapping suggested from the header, exact per-row errors, upserts
by external id then by domain within the caller's book, dry runs that write nothing, and CreateCompany's
and UpdateCompany's own rules, scope, history and events. Real gRPC server and import loop, on SQLite
and PostgreSQL; resuming after a killed worker is in test_imports_resume.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from contacts.companies import api as companies_api
from contacts.companies.store import Company
from contacts.imports import api as imports_api
from contacts.imports.fields import suggest_mapping
from contacts.imports.resources import adapter_of
from contacts.store import messaging
from crm.contacts.v1 import companies_pb2, companies_pb2_grpc, imports_pb2
from crm_platform.grpc_server import GrpcServer
from crm_platform.resources.schema import TABLES
from crm_platform.service import Runtime
from crm_platform.testing.callers import caller_metadata

from .test_imports import csv_of, errors_of, start, wait, worker  # noqa: F401  (worker: a fixture)

# Every test here runs the import loop (test_imports.worker).
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def imports(runtime: Runtime) -> Iterator[Any]:
    server = GrpcServer(
        "contacts",
        "127.0.0.1:0",
        lambda s: [*companies_api.register(s, runtime), *imports_api.register(s, runtime)],
    ).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    from crm.contacts.v1 import imports_pb2_grpc

    yield imports_pb2_grpc.ImportsServiceStub(channel), companies_pb2_grpc.CompaniesServiceStub(channel)
    channel.close()
    server.stop(0)


def counts(runtime: Runtime) -> tuple[int, int, int]:
    """Companies, their history entries and their events (an item of a companies_imported counting as
    the company_created it stands for)."""
    outbox = messaging.outbox
    with runtime.engine.connect() as conn:
        history = TABLES.history
        batches = conn.execute(select(outbox.c.payload).where(outbox.c.routing_key == "companies_imported"))
        announced_together = sum(len(json.loads(payload)["items"]) for payload in batches.scalars())
        return (
            conn.execute(select(func.count()).select_from(Company)).scalar_one(),
            conn.execute(
                select(func.count()).select_from(history).where(history.c.resource_type == "company")
            ).scalar_one(),
            conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.aggregate_type == "company")
            ).scalar_one()
            + announced_together,
        )


def companies_by_domain(stub: Any) -> dict[str, companies_pb2.Company]:
    page = stub.ListCompanies(companies_pb2.ListCompaniesRequest(limit=200), metadata=caller_metadata("u1"))
    return {c.domain or c.name: c for c in page.items}


def test_the_mapping_is_suggested_from_a_companies_header() -> None:
    fields = adapter_of("companies").importable()
    assert "address.city" in fields and "external_id" in fields
    header = ["Company Name", "Domain", "Town", "Country", "Zip", "Legacy ID", "Employees?", "Phone"]
    assert suggest_mapping(header, fields) == {
        "Company Name": "name",
        "Domain": "domain",
        "Town": "address.city",
        "Country": "address.country",
        "Zip": "address.postal_code",
        "Legacy ID": "external_id",
        "Phone": "phone",
    }


def test_companies_import_with_exact_row_errors_and_upsert_by_external_id_then_domain(
    imports, runtime
) -> None:
    stub, companies = imports
    acme = companies.CreateCompany(
        companies_pb2.CreateCompanyRequest(name="Acme", domain="acme.com"), metadata=caller_metadata("u1")
    )
    initech = companies.CreateCompany(
        companies_pb2.CreateCompanyRequest(name="Initech", external_id="erp-7"),
        metadata=caller_metadata("u1"),
    )
    content = csv_of(
        [
            ["Company", "Domain", "City", "Country", "Size", "External ID"],
            ["Acme Corporation", "WWW.ACME.COM", "Springfield", "us", "51_200", "erp-1"],  # by domain
            ["Initrode", "initech.example", "Austin", "US", "", "erp-7"],  # by external id (renamed)
            ["Globex", "globex.com", "Cypress Creek", "US", "1001_5000", "erp-3"],  # new
            ["", "nameless.com", "", "", "", "erp-4"],  # no name
            ["Bad Domain", "not a domain", "", "", "", "erp-5"],
            ["Nowhere", "nowhere.com", "", "XX", "", "erp-6"],  # not a country
            ["Sized", "sized.com", "", "", "huge", "erp-8"],  # not a size
            ["Keyless", "", "", "", "", ""],  # nothing to match by
            ["Globex", "globex.com", "Cypress Creek", "US", "1001_5000", "erp-3"],  # the same again
        ]
    )
    job = start(stub, content, resource="companies", filename="companies.csv")
    assert dict(job.mapping) == {
        "Company": "name",
        "Domain": "domain",
        "City": "address.city",
        "Country": "address.country",
        "Size": "size",
        "External ID": "external_id",
    }
    assert job.resource == "companies" and "address.city" in job.fields
    job = wait(stub, job.id)
    assert (job.created, job.updated, job.skipped, job.failed) == (1, 2, 1, 5), errors_of(stub, job.id)
    errors = errors_of(stub, job.id)
    assert [(row, column) for row, column, _m in errors] == [
        (5, "Company"),
        (6, "Domain"),
        (7, "Country"),
        (8, "Size"),
        (9, "Domain"),
    ]
    assert errors[-1][2] == "is required when the row has no external_id (it matches the row to a company)"
    found = companies_by_domain(companies)
    assert found["acme.com"].id == acme.id and found["acme.com"].external_id == "erp-1"
    assert (found["acme.com"].name, found["acme.com"].address.city) == ("Acme Corporation", "Springfield")
    assert found["acme.com"].address.country == "US"
    assert found["initech.example"].id == initech.id and found["initech.example"].name == "Initrode"
    assert found["globex.com"].size == companies_pb2.COMPANY_SIZE_1001_5000
    assert set(found) == {"acme.com", "initech.example", "globex.com"}
    # The service's own history and events: two creates before, one by the import, two updates.
    assert counts(runtime) == (3, 5, 5)

    # A dry run of the same file counts by the same rule and writes nothing.
    before = counts(runtime)
    dry = wait(stub, start(stub, content, resource="companies", dry_run=True).id)
    assert (dry.created, dry.updated, dry.skipped, dry.failed) == (0, 0, 4, 5)
    assert counts(runtime) == before


def test_a_companies_import_runs_as_its_caller(imports) -> None:
    stub, companies = imports
    theirs = companies.CreateCompany(
        companies_pb2.CreateCompanyRequest(name="Theirs", domain="theirs.com"),
        metadata=caller_metadata("someone-else", "sales_rep"),
    )
    content = csv_of([["name", "domain"], ["Mine", "mine.com"], ["Taken Over", "theirs.com"]])
    job = wait(stub, start(stub, content, user="rep", role="sales_rep", resource="companies").id, user="rep")
    # The holder of the domain is out of the rep's scope: refused as a create would be, naming nobody.
    assert errors_of(stub, job.id, user="rep") == [
        (3, "domain", "a company with domain theirs.com already exists")
    ]
    assert (job.created, job.failed) == (1, 1)
    unchanged = companies.GetCompany(
        companies_pb2.GetCompanyRequest(id=theirs.id), metadata=caller_metadata("u1")
    )
    assert unchanged.etag == theirs.etag
    # Someone who may not write companies may not import them.
    with pytest.raises(grpc.RpcError) as caught:
        start(stub, content, user="reader", role="read_only", resource="companies")
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # A mapping without a key is refused at once.
    with pytest.raises(grpc.RpcError) as caught:
        start(stub, csv_of([["name", "city"], ["A", "B"]]), resource="companies")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert job.state == imports_pb2.IMPORT_STATE_DONE
