"""A companies import's rows that would change nothing are told without UpdateCompany (imports/unchanged.py,
through the Companies adapter): counted `skipped` with nothing written (no version, history or event),
while every other row still gets UpdateCompany's own answer: one that changes a field, one its rules
refuse, one written earlier in its chunk, one that sets custom fields, one for a company the caller may
not update. Real gRPC server and import loop (chunks of three rows), SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from contacts.companies import api as companies_api
from contacts.imports.companies import Companies
from contacts.imports.unchanged import UnchangedRows
from contacts.main import DEFINITION
from crm.contacts.v1 import companies_pb2
from crm_platform.resources.etag import etag_of
from crm_platform.service import Runtime
from crm_platform.testing.callers import caller
from crm_platform.testing.service_server import served_channel

from .test_imports import errors_of
from .test_imports_companies_batch import ADMIN, Api, counts, run, worker  # noqa: F401  (worker: a fixture)

pytestmark = pytest.mark.usefixtures("worker")

HEADER = [
    "name",
    "domain",
    "external_id",
    "industry",
    "size",
    "address.city",
    "address.postal_code",
    "address.country",
    "website",
    "phone",
    "parent_company_id",
]


@pytest.fixture
def api(runtime: Runtime) -> Iterator[Api]:
    with served_channel(DEFINITION, runtime) as channel:
        yield Api(channel)


@pytest.fixture
def update_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the companies UpdateCompany is called for, from now on (the import's servicers)."""
    calls: list[str] = []
    update = companies_api.CompaniesServicer.UpdateCompany

    def counted(self: companies_api.CompaniesServicer, request: Any, context: Any) -> Any:
        calls.append(request.company.id)
        return update(self, request, context)

    monkeypatch.setattr(companies_api.CompaniesServicer, "UpdateCompany", counted)
    return calls


def _first_file(parent_id: str) -> list[list[str]]:
    return [
        HEADER,
        ["Acme", "acme.example", "erp-1", "Tools", "51_200", "Springfield", "SP1 1AA", "US", "", "", ""],
        ["Initech", "initech.example", "erp-2", "", "", "Austin", "", "US", "https://ini.tech", "", ""],
        ["Globex", "globex.example", "", "Energy", "1001_5000", "", "", "", "", "+1 555 0100", parent_id],
        ["Hooli", "", "erp-4", "Search", "", "Palo Alto", "", "US", "", "", ""],  # no domain: by external id
        ["Umbrella", "umbrella.example", "erp-5", "", "", "", "", "GB", "", "", ""],
    ]


def _listed(api: Api) -> list[companies_pb2.Company]:
    request = companies_pb2.ListCompaniesRequest(limit=100)
    return list(api.companies.ListCompanies(request, metadata=ADMIN).items)


def _etags(api: Api) -> dict[str, str]:
    return {company.name: company.etag for company in _listed(api)}


def test_a_companies_file_imported_again_is_skipped_without_update_company(
    api: Api, runtime: Runtime, update_calls: list[str]
) -> None:
    parent = api.create(name="Holding", domain="holding.example")
    first = run(api, _first_file(parent.id))
    assert (first.created, first.failed) == (5, 0), errors_of(api.imports, first.id)
    before, etags = counts(runtime), _etags(api)
    again = [
        HEADER,
        # The same companies, written otherwise: UpdateCompany's rules normalise them to what is stored.
        ["Acme", "WWW.Acme.Example", "erp-1", "Tools", "51_200", "Springfield", "sp1 1aa", "us", "", "", ""],
        ["Initech", "initech.example.", "erp-2", "", "", "Austin", "", "US", "https://ini.tech", "", ""],
        ["Globex", "GLOBEX.example", "", "Energy", "1001_5000", "", "", "", "", "+1 555 0100", parent.id],
        ["Hooli", "", "erp-4", "Search", "", "Palo Alto", "", "us", "", "", ""],
        ["Umbrella", "", "erp-5", "", "", "", "", "GB", "", "", ""],  # by external id alone
    ]
    job = run(api, again)
    assert (job.created, job.updated, job.skipped, job.failed) == (0, 0, 5, 0), errors_of(api.imports, job.id)
    assert update_calls == []
    assert counts(runtime) == before
    assert _etags(api) == etags
    # The first file again, as a dry run: the same, also without UpdateCompany.
    dry = run(api, _first_file(parent.id), dry_run=True)
    assert (dry.created, dry.updated, dry.skipped, dry.failed) == (0, 0, 5, 0)
    assert update_calls == [] and counts(runtime) == before


def test_rows_that_change_something_or_may_not_be_told_still_go_through_update_company(
    api: Api, runtime: Runtime, update_calls: list[str]
) -> None:
    api.define_tier()
    parent = api.create(name="Holding", domain="holding.example")
    first = run(api, _first_file(parent.id))
    assert (first.created, first.failed) == (5, 0), errors_of(api.imports, first.id)
    tiered = api.create(name="Tiered", domain="tiered.example", custom_fields={"tier": "gold"})
    ids = {company.name: company.id for company in _listed(api)}
    (companies, history, values, events), etags = counts(runtime), _etags(api)
    rows = [
        HEADER,
        # 2: one field changed.
        ["Acme", "acme.example", "erp-1", "Hardware", "51_200", "Springfield", "SP1 1AA", "US", "", "", ""],
        # 3: matched by its external id, refused by the domain's rules (a host name, but not a domain).
        ["Initech", "localhost", "erp-2", "", "", "Austin", "", "US", "https://ini.tech", "", ""],
        # 4: row 2's company as it left it, but written earlier in this chunk (of three rows): not told here.
        ["Acme", "acme.example", "erp-1", "Hardware", "", "", "", "", "", "", ""],
        # 5: the same again, in the next chunk (read again): told without UpdateCompany.
        ["Acme", "acme.example", "erp-1", "Hardware", "", "", "", "", "", "", ""],
        # 6: unchanged.
        ["Globex", "globex.example", "", "Energy", "1001_5000", "", "", "", "", "+1 555 0100", parent.id],
    ]
    job = run(api, rows)
    errors = errors_of(api.imports, job.id)
    assert (job.created, job.updated, job.skipped, job.failed) == (0, 1, 3, 1), errors
    assert errors == [(3, "domain", 'is not a domain name (e.g. "acme.com")')]
    assert update_calls == [ids["Acme"], ids["Initech"], ids["Acme"]]
    # One field changed: a new version, one history entry, one event; no other company written.
    assert counts(runtime) == (companies, history + 1, values, events + 1)
    after = _etags(api)
    assert {name for name in etags if after[name] != etags[name]} == {"Acme"}
    assert after["Acme"] == etag_of(ids["Acme"], 2) and api.get(ids["Acme"]).industry == "Hardware"
    changed = [[change["field"] for change in entry.get("changes", [])] for entry in api.history(ids["Acme"])]
    assert len(changed) == 2 and ["industry"] in changed

    # A row that sets custom fields (even as stored) is UpdateCompany's to tell: they merge with the
    # stored values and the catalogue. (A CSV cell cannot hold them yet: asked of the adapter directly.)
    adapter = Companies(caller("u1", "admin"))
    partial = companies_pb2.Company(id=tiered.id, name="Tiered")
    partial.custom_fields.update({"tier": "gold"})
    with Session(runtime.engine) as session:
        adapter.existing(session, {"domain": {"tiered.example"}, "external_id": set()})
    assert adapter.unchanged(tiered.id, partial, ["name"])
    assert not adapter.unchanged(tiered.id, partial, ["custom_fields", "name"])


def test_a_company_the_caller_may_not_update_gets_update_companys_answer(
    api: Api, runtime: Runtime, update_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows naming companies as they are, imported by callers who may not update them: a rep who may not
    read it (told as a taken external id, its first key, naming nobody) and a marketer who reads every
    company but updates only their own (PERMISSION_DENIED): the answers UpdateCompany gives, the same as
    with every row sent through it."""
    theirs = api.create(
        "someone-else", "sales_rep", name="Theirs", domain="theirs.example", external_id="t-1"
    )
    file = [["name", "domain", "external_id"], ["Theirs", "theirs.example", "t-1"]]
    before = counts(runtime)

    def answers() -> list[Any]:
        told = []
        for user, role in (("rep", "sales_rep"), ("mk", "marketer")):
            job = run(api, file, user=user, role=role)
            told.append(
                ((job.created, job.updated, job.skipped, job.failed), errors_of(api.imports, job.id, user))
            )
        return told

    told = answers()
    assert told == [
        ((0, 0, 0, 1), [(2, "external_id", "a company with external_id t-1 already exists")]),
        ((0, 0, 0, 1), [(2, "", "you may not update this company")]),
    ]
    assert update_calls == [theirs.id, theirs.id]
    # The same answers with every matched row sent through UpdateCompany (as before unchanged.py).
    monkeypatch.setattr(UnchangedRows, "unchanged", lambda *_args: False)
    assert answers() == told
    assert counts(runtime) == before
    assert api.get(theirs.id).etag == theirs.etag
