"""The companies an import creates are checked by CreateCompany's own checks as they come and written
together (CompaniesServicer.check_create and add_checked, through the batch of imports/rows.py): they
are what CreateCompany makes (fields, custom fields, history, version), each row gets the answer it got
when rows were created one by one, and a chunk's new companies are announced by one `companies_imported`
whose items carry what `company_created` carries. Real gRPC server and import loop, SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from sqlalchemy import func, select

from contacts.companies import api as companies_api
from contacts.companies import store as companies_store
from contacts.companies.store import Company
from contacts.custom_fields.store import CustomFieldValue
from contacts.imports.calls import Borrowed, Call
from contacts.imports.companies import Companies
from contacts.main import DEFINITION
from contacts.store import messaging
from crm.contacts.v1 import (
    companies_pb2,
    companies_pb2_grpc,
    custom_fields_pb2,
    custom_fields_pb2_grpc,
    imports_pb2_grpc,
)
from crm_platform.access.context import acting_as
from crm_platform.errors import DomainError, FailedPrecondition
from crm_platform.resources import Change
from crm_platform.resources.etag import etag_of
from crm_platform.resources.schema import TABLES
from crm_platform.service import Runtime
from crm_platform.testing.callers import caller, caller_metadata
from crm_platform.testing.service_server import served_channel

from .import_workers import import_loop
from .test_imports import errors_of, start, wait

ADMIN = caller_metadata("u1", "admin")


class Api:
    def __init__(self, channel: grpc.Channel) -> None:
        self.imports = imports_pb2_grpc.ImportsServiceStub(channel)
        self.companies = companies_pb2_grpc.CompaniesServiceStub(channel)
        self.fields = custom_fields_pb2_grpc.CustomFieldsServiceStub(channel)

    def create(self, user: str = "u1", role: str = "admin", **fields: Any) -> companies_pb2.Company:
        custom = fields.pop("custom_fields", None)
        request = companies_pb2.CreateCompanyRequest(**fields)
        if custom is not None:
            request.custom_fields.update(custom)
        return self.companies.CreateCompany(request, metadata=caller_metadata(user, role), timeout=10)

    def get(self, company_id: str) -> companies_pb2.Company:
        return self.companies.GetCompany(companies_pb2.GetCompanyRequest(id=company_id), metadata=ADMIN)

    def history(self, company_id: str) -> list[dict[str, Any]]:
        """The company's history entries as JSON, without what differs between any two entries."""
        answer = self.companies.ListCompanyHistory(
            companies_pb2.ListCompanyHistoryRequest(id=company_id), metadata=ADMIN
        )
        entries = [
            json_format.MessageToDict(entry, preserving_proto_field_name=True) for entry in answer.items
        ]
        for entry in entries:
            del entry["id"], entry["resource_id"], entry["occurred_at"]
        return entries

    def define_tier(self) -> None:
        request = custom_fields_pb2.CreateCustomFieldRequest(
            resource=custom_fields_pb2.CUSTOM_FIELD_RESOURCE_COMPANIES,
            name="tier",
            label="Tier",
            type=custom_fields_pb2.CustomFieldType.CUSTOM_FIELD_TYPE_SINGLE_CHOICE,
            choices=["gold", "silver"],
        )
        self.fields.CreateCustomField(request, metadata=ADMIN, timeout=10)


@pytest.fixture
def api(runtime: Runtime) -> Iterator[Api]:
    with served_channel(DEFINITION, runtime) as channel:
        yield Api(channel)


@pytest.fixture
def worker(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The import loop, committing chunks of three rows (so a small file spans several)."""
    monkeypatch.setenv("CRM_IMPORT_CHUNK_ROWS", "3")
    with import_loop(runtime):
        yield


def csv_of(rows: list[list[str]]) -> bytes:
    """Quoted where needed: a custom_fields cell is JSON."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def run(api: Api, rows: list[list[str]], user: str = "u1", role: str = "admin", **fields: Any) -> Any:
    job = start(api.imports, csv_of(rows), user=user, role=role, resource="companies", **fields)
    return wait(api.imports, job.id, user=user, role=role)


def outbox(runtime: Runtime) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """(event type, payload, headers) of every event recorded so far, oldest first."""
    table = messaging.outbox
    with runtime.engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.created_at)).all()
    return [(row.routing_key, json.loads(row.payload), json.loads(row.headers)) for row in rows]


def counts(runtime: Runtime) -> tuple[int, int, int, int]:
    """Companies, their history entries, custom field value rows and outbox events."""
    with runtime.engine.connect() as conn:
        history = TABLES.history
        values = conn.exec_driver_sql("SELECT count(*) FROM custom_field_values").scalar_one()
        return (
            conn.execute(select(func.count()).select_from(Company)).scalar_one(),
            conn.execute(
                select(func.count()).select_from(history).where(history.c.resource_type == "company")
            ).scalar_one(),
            int(values),
            conn.execute(select(func.count()).select_from(messaging.outbox)).scalar_one(),
        )


FULL = {
    "name": "Analytical Engines",
    "industry": "Machinery",
    "size": "51_200",
    "address.street": "1 Babbage Row",
    "address.city": "london",
    "address.postal_code": "ec1a 1bb",
    "address.country": "gb",
    "website": "https://engines.example",
    "phone": "+44 20 7946 0000",
    "description": " Difference and analytical ",
}


def test_a_batch_created_company_is_what_create_company_makes(
    api: Api, runtime: Runtime, worker: None
) -> None:
    parent = api.create(name="Holding", domain="holding.example")
    made = api.create(
        name=FULL["name"],
        domain="made.example",
        industry=FULL["industry"],
        size=companies_pb2.COMPANY_SIZE_51_200,
        address=companies_pb2.Address(
            street=FULL["address.street"],
            city=FULL["address.city"],
            postal_code=FULL["address.postal_code"],
            country=FULL["address.country"],
        ),
        website=FULL["website"],
        phone=FULL["phone"],
        description=FULL["description"],
        parent_company_id=parent.id,
        external_id="made-1",
    )
    row = {**FULL, "domain": "WWW.Imported.Example", "parent_company_id": parent.id, "external_id": " imp-1 "}
    job = run(api, [list(row), list(row.values())])
    assert (job.created, job.failed) == (1, 0), errors_of(api.imports, job.id)
    [imported] = [
        c
        for c in api.companies.ListCompanies(
            companies_pb2.ListCompaniesRequest(filter='external_id = "imp-1"'), metadata=ADMIN
        ).items
    ]

    def without_identity(company: companies_pb2.Company) -> companies_pb2.Company:
        copy = companies_pb2.Company()
        copy.CopyFrom(company)
        for name in ("id", "etag", "domain", "external_id", "created_at", "updated_at"):
            copy.ClearField(name)
        return copy

    assert without_identity(api.get(imported.id)) == without_identity(api.get(made.id))
    assert (imported.domain, imported.external_id) == (
        "imported.example",
        "imp-1",
    )  # as CreateCompany keeps them
    assert imported.etag == etag_of(imported.id, 1)  # version 1, as a company CreateCompany makes
    assert imported.created_at == imported.updated_at

    # The same 'created' history entry, field for field (but the domain and the external id).
    def same_keys(entries: list[dict[str, Any]], domain: str, external_id: str) -> list[dict[str, Any]]:
        text = json.dumps(entries).replace(domain, "DOMAIN").replace(external_id, "EXTERNAL")
        return json.loads(text)

    assert same_keys(api.history(imported.id), "imported.example", "imp-1") == same_keys(
        api.history(made.id), "made.example", "made-1"
    )
    # Announced in companies_imported, the item carrying what company_created carries for it.
    events = outbox(runtime)
    created = {p["company_id"]: p for t, p, _h in events if t == "company_created"}
    [(payload, headers)] = [(p, h) for t, p, h in events if t == "companies_imported"]
    [item] = payload["items"]
    assert (item["aggregate_id"], item["sequence"]) == (imported.id, 1)
    assert headers["ce-itemaggregatetype"] == "company" and headers["ce-crmorigin"] == "import"
    expected = {**created[made.id], "company_id": imported.id, "domain": "imported.example"}
    expected["created_at"] = item["data"]["created_at"]
    assert item["data"] == expected
    assert set(created) == {parent.id, made.id}  # no company_created for the imported one


def test_each_chunk_announces_its_new_companies_in_one_event(
    api: Api, runtime: Runtime, worker: None
) -> None:
    rows = [["name", "domain", "external_id"]] + [[f"C{i}", f"c{i}.example", f"e-{i}"] for i in range(7)]
    job = run(api, rows)
    assert (job.created, job.failed) == (7, 0)
    batches = [p["items"] for t, p, _h in outbox(runtime) if t == "companies_imported"]
    # In the file's order: chunks commit in it, but on PostgreSQL two are written at once (overlap.py),
    # so their events' places in the outbox need not follow it.
    batches.sort(key=lambda items: int(items[0]["data"]["domain"].split(".")[0][1:]))
    assert [len(items) for items in batches] == [3, 3, 1]  # chunks of three rows
    with runtime.engine.connect() as conn:
        ids = dict(conn.execute(select(Company.domain, Company.id)).all())
    items = [item for items in batches for item in items]
    assert [(i["aggregate_id"], i["sequence"], i["data"]["domain"]) for i in items] == [
        (ids[f"c{n}.example"], 1, f"c{n}.example") for n in range(7)
    ]
    assert len({i["id"] for i in items}) == 7
    assert all(i["data"]["actor_id"] == "u1" and i["data"]["version"] == 1 for i in items)
    assert counts(runtime) == (7, 7, 0, 3)

    # A dry run of new companies counts them and writes nothing.
    before = counts(runtime)
    fresh = [["name", "domain"]] + [[f"D{i}", f"d{i}.example"] for i in range(5)]
    dry = run(api, fresh, dry_run=True)
    assert (dry.created, dry.updated, dry.failed) == (5, 0, 0)
    assert counts(runtime) == before


REFUSALS_HEADER = ["name", "domain", "external_id", "parent_company_id", "Country", "team", "phone"]


@pytest.mark.parametrize("batch", [True, False], ids=["batched", "one_by_one"])
def test_rows_get_the_answers_they_got_one_by_one(
    api: Api, runtime: Runtime, worker: None, monkeypatch: pytest.MonkeyPatch, batch: bool
) -> None:
    """The same file as a manager (of no team), with every kind of refusal and duplicates within the file and
    against companies there before: the batched creates give exactly the counts and row errors of the
    one-by-one path (CreateCompany per row) they replace."""
    monkeypatch.setattr(Companies, "batch", batch)
    theirs = api.create(
        "someone-else", "sales_rep", name="Theirs", domain="theirs.example", external_id="t-1"
    )
    archived = api.create("mgr", "manager", name="Gone")
    api.companies.DeleteCompany(
        companies_pb2.DeleteCompanyRequest(id=archived.id), metadata=caller_metadata("mgr", "manager")
    )
    not_theirs = api.create(name="Admin's", domain="admins.example")  # a parent they may not read
    rows = [
        REFUSALS_HEADER,
        ["Fine", "fine.example", "f-1", "", "GB", "", ""],  # 2 created
        ["X" * 201, "long.example", "", "", "", "", ""],  # 3 the contract's rules
        ["Bad", "bad.example", "", "", "XX", "", "12"],  # 4 the domain's rules, two fields
        ["Orphan", "orphan.example", "", not_theirs.id, "", "", ""],  # 5 a parent out of scope
        ["Late", "late.example", "", archived.id, "", "", ""],  # 6 an archived parent
        ["Given", "given.example", "", "", "", "t9", ""],  # 7 a team not theirs: beyond their right
        ["Theirs", "theirs.example", "", "", "", "", ""],  # 8 a domain held out of scope
        ["Theirs too", "other.example", "t-1", "", "", "", ""],  # 9 an external id held out of scope
        ["Two", "two.example", "n-1", "", "", "", ""],  # 10 created
        ["Three", "three.example", "n-1", "", "", "", ""],  # 11 row 10's, by external id: its domain moves
        ["Two again", "two.example", "n-2", "", "", "", ""],  # 12 created: row 11 freed the domain
        ["Fine", "FINE.example.", "", "", "gb", "", ""],  # 13 row 2's, unchanged
        ["Dup", "dup.example", "d-1", "", "", "", ""],  # 14 created
        ["Dup", "dup.example", "d-2", "", "", "", ""],  # 15 row 14's by domain: gets d-2
        ["Child", "child.example", "", theirs.id, "", "", ""],  # 16 a parent out of scope
    ]
    job = run(api, rows, user="mgr", role="manager")
    errors = errors_of(api.imports, job.id, user="mgr")
    assert (job.created, job.updated, job.skipped, job.failed) == (4, 2, 1, 8), errors
    assert errors == [
        (3, "name", "must be at most 200 characters"),
        (4, "phone", "is not a valid phone number"),
        (4, "Country", "is not an ISO 3166-1 alpha-2 country code"),
        (5, "parent_company_id", "names no company you may read: " + not_theirs.id),
        (6, "parent_company_id", "names an archived company"),
        (7, "", "you may only assign company records to your own teams"),
        (8, "domain", "a company with domain theirs.example already exists"),  # naming nobody
        (9, "external_id", "a company with external_id t-1 already exists"),
        (16, "parent_company_id", "names no company you may read: " + theirs.id),
    ]
    with runtime.engine.connect() as conn:
        mine = dict(
            conn.execute(
                select(Company.domain, Company.external_id).where(
                    Company.owner_id == "mgr", Company.domain.is_not(None)
                )
            ).all()
        )
    assert mine == {"fine.example": "f-1", "three.example": "n-1", "two.example": "n-2", "dup.example": "d-2"}


def _request(custom: dict[str, Any] | None = None, **fields: Any) -> companies_pb2.CreateCompanyRequest:
    request = companies_pb2.CreateCompanyRequest(**fields)
    if custom is not None:
        request.custom_fields.update(custom)
    return request


def test_a_batch_refuses_what_creating_one_after_another_refuses(api: Api, runtime: Runtime) -> None:
    """check_create and add_checked, straight, against CreateCompany one request after the other in
    the same transaction: the same refusals (a domain or external id taken before, or by an earlier
    company of the batch, the holder named only to a caller who may read it; bad fields and custom
    fields, named together) and the same companies, custom field values and history."""
    api.define_tier()
    held = api.create("rep", "sales_rep", name="Held", domain="held.example", external_id="h-1")
    hidden = api.create(
        "someone-else", "sales_rep", name="Hidden", domain="hidden.example", external_id="x-1"
    )
    requests = [
        _request({"tier": "gold"}, name="New", domain="new.example", external_id="n-1", size=3),
        _request(name="A", domain="held.example"),
        _request(name="B", domain="b.example", external_id="h-1"),
        _request(name="C", domain="new.example"),
        _request(name="D", domain="d.example", external_id="n-1"),
        _request(name="E", domain="held.example", external_id="n-1"),
        _request(name="F", domain="hidden.example"),
        _request(name="G", external_id="x-1"),
        _request({"tier": "platinum"}, name="H"),
        _request({"tier": "platinum"}, name="I", phone="12"),
        _request({"shoe": 1}, name="J"),
        _request(name="No keys", address=companies_pb2.Address(country="gb", city=" Leeds ")),
        _request({"tier": "silver"}, name="No keys either"),
    ]

    def answers(batched: bool) -> list[tuple[Any, ...]]:
        """Per request: (refusal, message, its fields, the holder's name), or ("created", name, the
        company's columns, custom field values, history changes); nothing is kept."""
        with acting_as(caller("rep", "sales_rep")), runtime.sessions() as session, session.begin():
            servicer = companies_api.CompaniesServicer(
                Runtime("contacts", runtime.engine, Borrowed(session), messaging)  # type: ignore[arg-type]
            )
            outcomes: list[Any] = []
            if batched:
                definitions = servicer.custom_fields.definitions(session)
                checked: list[Any] = []
                for request in requests:
                    try:
                        checked.append(servicer.check_create(session, request, definitions))
                    except DomainError as error:
                        outcomes.append(error)
                        continue
                    outcomes.append(len(checked) - 1)
                added = servicer.add_checked(session, checked, "rep")
                outcomes = [added[o] if isinstance(o, int) else o for o in outcomes]
            else:
                for request in requests:
                    try:
                        outcomes.append(servicer.CreateCompany(request, Call()))  # type: ignore[arg-type]
                    except DomainError as error:
                        outcomes.append(error)
            told = [_told(session, outcome) for outcome in outcomes]
            session.rollback()
            return told

    one_by_one = answers(batched=False)
    assert [answer[:2] for answer in one_by_one] == [
        ("created", "New"),
        ("DomainTaken", "a company with domain held.example already exists"),
        ("ExternalIdTaken", "a company with external_id h-1 already exists"),
        ("DomainTaken", "a company with domain new.example already exists"),
        ("ExternalIdTaken", "a company with external_id n-1 already exists"),
        ("DomainTaken", "a company with domain held.example already exists"),
        ("DomainTaken", "a company with domain hidden.example already exists"),
        ("ExternalIdTaken", "a company with external_id x-1 already exists"),
        ("InvalidArgument", "invalid custom field values of companies"),
        ("InvalidArgument", "invalid companies fields"),
        ("InvalidArgument", "invalid custom field values of companies"),
        ("created", "No keys"),
        ("created", "No keys either"),
    ]
    holders = [answer[3] for answer in one_by_one[1:8]]
    assert holders == ["Held", "Held", "New", "New", "Held", "", ""]  # out of scope: nobody named
    assert set(one_by_one[9][2]) == {"phone", "custom_fields.tier"}  # both at once
    assert one_by_one[0][3] == {"tier": "gold"} and one_by_one[0][4]  # values and history kept
    assert answers(batched=True) == one_by_one
    with runtime.engine.connect() as conn:
        assert set(conn.execute(select(Company.id)).scalars()) == {held.id, hidden.id}  # rolled back


def _told(session: Any, outcome: Any) -> tuple[Any, ...]:
    """What a create answered, told without what differs between two runs (ids, times)."""
    names = dict(session.execute(select(Company.id, Company.name)).all())
    if isinstance(outcome, DomainError):
        holder = names.get(getattr(outcome, "existing_id", ""), "")
        return (type(outcome).__name__, outcome.message, getattr(outcome, "fields", {}), holder)
    company_id = outcome.row.id if isinstance(outcome, Change) else outcome.id
    row = session.execute(select(Company.__table__).where(Company.id == company_id)).one()._asdict()
    columns = {k: v for k, v in row.items() if k not in ("id", "created_at", "updated_at")}
    values = session.execute(
        select(CustomFieldValue.field, CustomFieldValue.text_value).where(
            CustomFieldValue.record_id == company_id
        )
    ).all()
    history = session.execute(
        select(TABLES.history.c.action, TABLES.history.c.actor_id, TABLES.history.c.changes).where(
            TABLES.history.c.resource_id == company_id
        )
    ).all()
    return ("created", row["name"], columns, dict(values), [tuple(entry) for entry in history])


def test_a_row_refused_after_writing_leaves_nothing_behind(
    api: Api, runtime: Runtime, worker: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal after the batch was written (here: while recording its event) sends the chunk back
    for a savepoint per row, each row through CreateCompany: the refused row leaves nothing, the others
    are created once, announced by a company_created each."""
    from contacts.companies import events

    one, together = events.record_company_created, events.record_companies_imported

    def refuse_b(session: Any, change: Any) -> str:
        if change.row.domain == "b.example":
            raise FailedPrecondition("b is refused after its row was written")
        return one(session, change)

    def refuse_batch_with_b(session: Any, changes: Any) -> Any:
        if any(change.row.domain == "b.example" for change in changes):
            raise FailedPrecondition("b is refused after its row was written")
        return together(session, changes)

    monkeypatch.setattr(events, "record_company_created", refuse_b)
    monkeypatch.setattr(events, "record_companies_imported", refuse_batch_with_b)
    job = run(api, [["name", "domain"], ["A", "a.example"], ["B", "b.example"], ["C", "c.example"]])
    assert (job.created, job.failed) == (2, 1)
    assert errors_of(api.imports, job.id) == [(3, "", "b is refused after its row was written")]
    assert counts(runtime) == (2, 2, 0, 2)
    assert [t for t, _p, _h in outbox(runtime)] == ["company_created", "company_created"]


def test_a_batch_the_database_refuses_is_applied_row_by_row_with_exact_errors(
    api: Api, runtime: Runtime, worker: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer takes a domain between the chunk's reads and its insert (here: the reads are made
    blind to it): the unique index refuses the batch, the chunk is applied again one row at a time, and
    the row that collides gets the answer CreateCompany gives; the others are in, once each."""
    taken = api.create(name="Taken", domain="taken.example")
    existing, holders = Companies.existing, companies_store._domain_holders

    def existing_before(self: Any, session: Any, wanted: Any) -> Any:
        return [found for found in existing(self, session, wanted) if found.id != taken.id]

    def holders_before(session: Any, books: Any, domains: Any) -> Any:
        return {key: row for key, row in holders(session, books, domains).items() if row.id != taken.id}

    monkeypatch.setattr(Companies, "existing", existing_before)
    monkeypatch.setattr(companies_store, "_domain_holders", holders_before)
    job = run(
        api, [["name", "domain"], ["One", "one.example"], ["Again", "taken.example"], ["Two", "two.example"]]
    )
    assert (job.created, job.updated, job.failed) == (2, 0, 1)
    assert errors_of(api.imports, job.id) == [
        (3, "domain", "a company with domain taken.example already exists")
    ]
    with runtime.engine.connect() as conn:
        domains = sorted(conn.execute(select(Company.domain)).scalars())
    assert domains == ["one.example", "taken.example", "two.example"]
    assert counts(runtime) == (3, 3, 0, 3)  # companies, 'created' history entries, company_created events


def test_a_custom_fields_cell_is_json_like_the_rest_apis(api: Api, runtime: Runtime, worker: None) -> None:
    """custom_fields (a Struct) takes the JSON object the REST API takes; a cell that is no JSON, or a
    value the field's definition refuses, is that row's error."""
    api.define_tier()
    rows = [
        ["name", "domain", "custom_fields"],
        ["Gold", "gold.example", '{"tier": "gold"}'],  # 2 created with its tier
        ["Broken", "broken.example", "{tier: gold"],  # 3 not JSON
        ["Bronze", "bronze.example", '{"tier": "bronze"}'],  # 4 not one of the choices
        ["Plain", "plain.example", ""],  # 5 created without
    ]
    job = run(api, rows)
    errors = errors_of(api.imports, job.id)
    assert (job.created, job.failed) == (2, 2), errors
    assert [(row, column) for row, column, _message in errors] == [
        (3, "custom_fields"),
        (4, "custom_fields"),
    ], errors
    assert "must be JSON" in errors[0][2]
    assert errors[1][2] == 'custom_fields.tier must be one of "gold", "silver"'
    [gold] = api.companies.ListCompanies(
        companies_pb2.ListCompaniesRequest(filter='domain = "gold.example"'), metadata=ADMIN
    ).items
    assert dict(api.get(gold.id).custom_fields) == {"tier": "gold"}
