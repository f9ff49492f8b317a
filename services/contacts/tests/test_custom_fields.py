"""Custom fields over a real contacts server with signed callers, on SQLite and PostgreSQL: definitions
(CRUD, admin-only writes, staff reads, immutable name/resource/type, no deletion while values exist),
values of every type round-tripping on contacts and companies through create, get, list and update (only
the named fields change; null clears), invalid values refused naming `custom_fields.<name>`, filters and
orders on custom fields (with paging), the list filters `tags:"x"` and `age`, and custom field values in
the data export and gone after erasure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from sqlalchemy import func, select

from contacts.custom_fields.store import CustomFieldValue
from contacts.main import DEFINITION
from crm.common.v1 import history_pb2
from crm.common.v1 import privacy_pb2 as common_privacy_pb2
from crm.contacts.v1 import (
    companies_pb2,
    companies_pb2_grpc,
    contacts_pb2,
    contacts_pb2_grpc,
    custom_fields_pb2,
    custom_fields_pb2_grpc,
    privacy_pb2,
    privacy_pb2_grpc,
)
from crm_platform.errors import field_errors_from
from crm_platform.listing.computed import years_before
from crm_platform.service import Runtime
from crm_platform.testing.callers import caller_metadata
from crm_platform.testing.service_server import served_channel

ADMIN = caller_metadata("admin", "admin")
MANAGER = caller_metadata("manager", "manager", team_ids=("t1",))
REP = caller_metadata("rep", "sales_rep", team_ids=("t2",))

CONTACTS = custom_fields_pb2.CUSTOM_FIELD_RESOURCE_CONTACTS
COMPANIES = custom_fields_pb2.CUSTOM_FIELD_RESOURCE_COMPANIES
T = custom_fields_pb2.CustomFieldType
FIELDS = {
    "tier": (T.CUSTOM_FIELD_TYPE_SINGLE_CHOICE, ["gold", "silver", "bronze"]),
    "score": (T.CUSTOM_FIELD_TYPE_NUMBER, []),
    "renewal": (T.CUSTOM_FIELD_TYPE_DATE, []),
    "newsletter": (T.CUSTOM_FIELD_TYPE_BOOLEAN, []),
    "nickname": (T.CUSTOM_FIELD_TYPE_TEXT, []),
    "colours": (T.CUSTOM_FIELD_TYPE_MULTI_CHOICE, ["red", "green", "blue"]),
}
VALUES = {
    "tier": "gold",
    "score": 4.5,
    "renewal": "2027-01-31",
    "newsletter": True,
    "nickname": "Countess",
    "colours": ["red", "blue"],
}


class Api:
    """The contacts server's stubs, each call as one of the signed callers above."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.contacts = contacts_pb2_grpc.ContactsServiceStub(channel)
        self.companies = companies_pb2_grpc.CompaniesServiceStub(channel)
        self.fields = custom_fields_pb2_grpc.CustomFieldsServiceStub(channel)
        self.privacy = privacy_pb2_grpc.PrivacyServiceStub(channel)
        self.serial = 0

    def define(self, name: str, resource: int = CONTACTS, md: Any = ADMIN, **extra: Any) -> Any:
        kind, choices = FIELDS[name]
        request = custom_fields_pb2.CreateCustomFieldRequest(
            resource=resource, name=name, label=name.title(), type=kind, choices=choices, **extra
        )
        return self.fields.CreateCustomField(request, metadata=md, timeout=10)

    def contact(self, md: Any = ADMIN, **fields: Any) -> contacts_pb2.Contact:
        self.serial += 1
        custom = fields.pop("custom_fields", None)
        request = contacts_pb2.CreateContactRequest(
            first_name="Ada",
            last_name=f"Lovelace{self.serial}",
            email=f"ada{self.serial}@example.com",
            **fields,
        )
        if custom is not None:
            request.custom_fields.update(custom)
        return self.contacts.CreateContact(request, metadata=md, timeout=10)

    def update(self, contact_id: str, custom: dict[str, Any], md: Any = ADMIN) -> contacts_pb2.Contact:
        partial = contacts_pb2.Contact(id=contact_id)
        partial.custom_fields.update(custom)
        request = contacts_pb2.UpdateContactRequest(contact=partial, update_mask={"paths": ["custom_fields"]})
        return self.contacts.UpdateContact(request, metadata=md, timeout=10)

    def ids(self, md: Any = ADMIN, **request: Any) -> list[str]:
        answer = self.contacts.ListContacts(
            contacts_pb2.ListContactsRequest(**request), metadata=md, timeout=10
        )
        return [item.id for item in answer.items]


@pytest.fixture
def api(runtime: Runtime) -> Iterator[Api]:
    with served_channel(DEFINITION, runtime) as channel:
        yield Api(channel)


def _custom(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message.custom_fields)


def _refused(call: Any, code: grpc.StatusCode) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    assert caught.value.code() is code, caught.value.details()
    return caught.value


# --- definitions ------------------------------------------------------------------------------------


def test_definitions_are_admin_written_staff_read_and_keep_their_name_resource_and_type(api: Api) -> None:
    tier = api.define("tier", description="how much they buy")
    assert (tier.name, tier.label, list(tier.choices)) == ("tier", "Tier", ["gold", "silver", "bronze"])
    assert tier.resource == CONTACTS and tier.description == "how much they buy" and tier.etag
    for md in (MANAGER, REP):  # staff read, only admins write
        _refused(lambda md=md: api.define("score", md=md), grpc.StatusCode.PERMISSION_DENIED)
        listed = api.fields.ListCustomFields(
            custom_fields_pb2.ListCustomFieldsRequest(), metadata=md, timeout=10
        )
        assert [item.name for item in listed.items] == ["tier"]
    _refused(lambda: api.define("tier"), grpc.StatusCode.ALREADY_EXISTS)
    assert api.define("tier", resource=COMPANIES).name == "tier"  # unique per resource only
    bad = _refused(
        lambda: api.fields.CreateCustomField(
            custom_fields_pb2.CreateCustomFieldRequest(
                resource=CONTACTS, name="score", label="Score", type=T.CUSTOM_FIELD_TYPE_NUMBER, choices=["x"]
            ),
            metadata=ADMIN,
            timeout=10,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "choices" in field_errors_from(bad)
    bad = _refused(
        lambda: api.fields.CreateCustomField(
            custom_fields_pb2.CreateCustomFieldRequest(
                resource=CONTACTS, name="Bad Name", label="x", type=T.CUSTOM_FIELD_TYPE_TEXT
            ),
            metadata=ADMIN,
            timeout=10,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "name" in field_errors_from(bad)

    def update(md: Any = ADMIN, **fields: Any) -> custom_fields_pb2.CustomField:
        partial = custom_fields_pb2.CustomField(id=tier.id, **fields)
        request = custom_fields_pb2.UpdateCustomFieldRequest(
            custom_field=partial, update_mask={"paths": list(fields)}
        )
        return api.fields.UpdateCustomField(request, metadata=md, timeout=10)

    changed = update(label="Customer tier", choices=["gold", "silver", "bronze", "platinum"])
    assert changed.label == "Customer tier" and list(changed.choices)[-1] == "platinum"
    _refused(lambda: update(md=MANAGER, label="x"), grpc.StatusCode.PERMISSION_DENIED)
    bad = _refused(lambda: update(name="level"), grpc.StatusCode.INVALID_ARGUMENT)
    assert field_errors_from(bad) == {
        "custom_field.name": "cannot change: delete the field and define a new one"
    }
    _refused(lambda: update(type=T.CUSTOM_FIELD_TYPE_TEXT), grpc.StatusCode.INVALID_ARGUMENT)

    # A choice or a field still in use stays; once no record holds it, it goes.
    holder = api.contact(custom_fields={"tier": "bronze"})
    bad = _refused(lambda: update(choices=["gold", "silver"]), grpc.StatusCode.INVALID_ARGUMENT)
    assert "custom_field.choices" in field_errors_from(bad)
    delete = custom_fields_pb2.DeleteCustomFieldRequest(id=tier.id)
    refused = _refused(
        lambda: api.fields.DeleteCustomField(delete, metadata=ADMIN, timeout=10),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "1 contacts still have a value for tier" in refused.details()
    _refused(
        lambda: api.fields.DeleteCustomField(delete, metadata=REP, timeout=10),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    api.update(holder.id, {"tier": None})
    api.fields.DeleteCustomField(delete, metadata=ADMIN, timeout=10)
    _refused(
        lambda: api.fields.GetCustomField(
            custom_fields_pb2.GetCustomFieldRequest(id=tier.id), metadata=ADMIN, timeout=10
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    history = api.fields.ListCustomFieldHistory(
        custom_fields_pb2.ListCustomFieldHistoryRequest(id=tier.id), metadata=ADMIN, timeout=10
    )
    actions = [history_pb2.ChangeAction.Name(entry.action) for entry in history.items]
    assert actions == ["CHANGE_ACTION_DELETED", "CHANGE_ACTION_UPDATED", "CHANGE_ACTION_CREATED"]
    # Gone from the allow-list at once (the catalogue version moved).
    bad = _refused(lambda: api.ids(filter='custom_fields.tier = "gold"'), grpc.StatusCode.INVALID_ARGUMENT)
    assert 'unknown field "custom_fields.tier"' in field_errors_from(bad)["filter"]


# --- values -----------------------------------------------------------------------------------------


def test_values_of_every_type_round_trip_and_updates_change_only_the_named_fields(api: Api) -> None:
    for name in FIELDS:
        api.define(name)
        api.define(name, resource=COMPANIES)
    created = api.contact(
        custom_fields={**VALUES, "colours": ["red", "blue", "red"], "nickname": "  Countess "}
    )
    assert _custom(created) == VALUES
    got = api.contacts.GetContact(contacts_pb2.GetContactRequest(id=created.id), metadata=ADMIN, timeout=10)
    assert _custom(got) == VALUES
    listed = api.contacts.ListContacts(contacts_pb2.ListContactsRequest(), metadata=ADMIN, timeout=10)
    assert _custom(listed.items[0]) == VALUES

    changed = api.update(created.id, {"score": 7, "nickname": None})
    expected = {**{k: v for k, v in VALUES.items() if k != "nickname"}, "score": 7.0}
    assert _custom(changed) == expected
    history = api.contacts.ListContactHistory(
        history_pb2.ListHistoryRequest(id=created.id), metadata=ADMIN, timeout=10
    )
    assert "custom_fields" in [change.field for change in history.items[0].changes]

    company_request = companies_pb2.CreateCompanyRequest(name="Analytical Engines")
    company_request.custom_fields.update(VALUES)
    company = api.companies.CreateCompany(company_request, metadata=ADMIN, timeout=10)
    assert _custom(company) == VALUES
    partial = companies_pb2.Company(id=company.id)
    partial.custom_fields.update({"tier": "silver"})
    updated = api.companies.UpdateCompany(
        companies_pb2.UpdateCompanyRequest(company=partial, update_mask={"paths": ["custom_fields"]}),
        metadata=ADMIN,
        timeout=10,
    )
    assert _custom(updated) == {**VALUES, "tier": "silver"}
    found = api.companies.ListCompanies(
        companies_pb2.ListCompaniesRequest(filter='custom_fields.tier = "silver"'), metadata=ADMIN, timeout=10
    )
    assert [item.id for item in found.items] == [company.id]


INVALID = [
    ({"unknown": "x"}, "custom_fields.unknown", "is not a custom field of contacts"),
    ({"tier": "platinum"}, "custom_fields.tier", 'must be one of "gold", "silver", "bronze"'),
    ({"score": "12"}, "custom_fields.score", "must be a number"),
    ({"renewal": "31/01/2027"}, "custom_fields.renewal", 'must be a date written "YYYY-MM-DD"'),
    ({"renewal": "2027-02-30"}, "custom_fields.renewal", "is not a real date"),
    ({"newsletter": "yes"}, "custom_fields.newsletter", "must be true or false"),
    ({"nickname": 5}, "custom_fields.nickname", "must be a string"),
    ({"nickname": "x" * 501}, "custom_fields.nickname", "at most 500 characters"),
    ({"colours": ["red", "pink"]}, "custom_fields.colours", '"pink" not among the choices'),
    ({"colours": "red"}, "custom_fields.colours", "must be a list of strings"),
    ({}, "custom_fields.region_code", "is required"),
]


def test_invalid_values_are_refused_naming_the_field(api: Api) -> None:
    for name in FIELDS:
        api.define(name)
    api.fields.CreateCustomField(
        custom_fields_pb2.CreateCustomFieldRequest(
            resource=CONTACTS,
            name="region_code",
            label="Region",
            type=T.CUSTOM_FIELD_TYPE_TEXT,
            required=True,
        ),
        metadata=ADMIN,
        timeout=10,
    )
    holder = api.contact(custom_fields={"region_code": "EU"})
    for values, field, message in INVALID:
        # The required field is given except where its absence is the mistake (values == {}).
        written = {"region_code": "EU", **values} if values else {}
        error = _refused(
            lambda written=written: api.contact(custom_fields=written), grpc.StatusCode.INVALID_ARGUMENT
        )
        assert message in field_errors_from(error)[field], (values, field_errors_from(error))
        changes = values or {"region_code": None}
        error = _refused(
            lambda changes=changes: api.update(holder.id, changes), grpc.StatusCode.INVALID_ARGUMENT
        )
        assert message in field_errors_from(error)[f"contact.{field}"], (values, field_errors_from(error))
    # Several mistakes at once: each named.
    error = _refused(
        lambda: api.contact(custom_fields={"region_code": "EU", "tier": "x", "score": True}),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(field_errors_from(error)) == {"custom_fields.tier", "custom_fields.score"}


def test_bad_built_in_and_custom_fields_are_all_named_in_one_answer(api: Api) -> None:
    """The contract's rules (email), the domain's (a phone that is no number) and the custom fields'
    definitions, on create and update of contacts and companies: one INVALID_ARGUMENT naming them all."""
    api.define("tier")
    api.define("score", resource=COMPANIES)
    holder = api.contact(custom_fields={"tier": "gold"})
    bad_custom = {"tier": "platinum", "unknown": 1}
    custom = {"custom_fields.tier", "custom_fields.unknown"}
    # (built-in fields, named on create, named on update): an update checks the domain's rules on a
    # record that meets the contract, so there a contract violation is named without the domain's.
    cases = [
        ({"email": "not an email"}, {"email", *custom}, {"email", *custom}),
        ({"phone": "+1 555"}, {"phone", *custom}, {"phone", *custom}),
        ({"email": "x@", "phone": "12"}, {"email", "phone", *custom}, {"email", *custom}),
    ]

    def create(custom: dict[str, Any], **built_in: str) -> contacts_pb2.Contact:
        fields = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada.x@example.com", **built_in}
        request = contacts_pb2.CreateContactRequest(**fields)
        request.custom_fields.update(custom)
        return api.contacts.CreateContact(request, metadata=ADMIN, timeout=10)

    for built_in, named, named_on_update in cases:
        error = _refused(
            lambda built_in=built_in: create(bad_custom, **built_in), grpc.StatusCode.INVALID_ARGUMENT
        )
        assert set(field_errors_from(error)) == named, field_errors_from(error)
        partial = contacts_pb2.Contact(id=holder.id, **built_in)
        partial.custom_fields.update(bad_custom)
        request = contacts_pb2.UpdateContactRequest(
            contact=partial, update_mask={"paths": [*built_in, "custom_fields"]}
        )
        error = _refused(
            lambda request=request: api.contacts.UpdateContact(request, metadata=ADMIN, timeout=10),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        assert set(field_errors_from(error)) == {f"contact.{name}" for name in named_on_update}, (
            field_errors_from(error)
        )
    # A good built-in part with a bad custom field, and the other way round, still name only what is bad.
    error = _refused(lambda: create(bad_custom), grpc.StatusCode.INVALID_ARGUMENT)
    assert set(field_errors_from(error)) == {"custom_fields.tier", "custom_fields.unknown"}
    error = _refused(lambda: create({"tier": "gold"}, email="nope"), grpc.StatusCode.INVALID_ARGUMENT)
    assert set(field_errors_from(error)) == {"email"}
    assert _custom(api.contacts.GetContact(contacts_pb2.GetContactRequest(id=holder.id), metadata=ADMIN)) == {
        "tier": "gold"
    }

    # Companies: the contract (name), the domain's rules (domain) and the custom fields.
    company = companies_pb2.CreateCompanyRequest(name="", domain="not a domain")
    company.custom_fields.update({"score": "high"})
    error = _refused(
        lambda: api.companies.CreateCompany(company, metadata=ADMIN, timeout=10),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(field_errors_from(error)) == {"name", "domain", "custom_fields.score"}, field_errors_from(
        error
    )
    acme = api.companies.CreateCompany(
        companies_pb2.CreateCompanyRequest(name="Acme"), metadata=ADMIN, timeout=10
    )
    partial = companies_pb2.Company(id=acme.id, name="x" * 201)
    partial.custom_fields.update({"score": "high", "nope": True})
    request = companies_pb2.UpdateCompanyRequest(
        company=partial, update_mask={"paths": ["name", "custom_fields"]}
    )
    error = _refused(
        lambda: api.companies.UpdateCompany(request, metadata=ADMIN, timeout=10),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(field_errors_from(error)) == {
        "company.name",
        "company.custom_fields.score",
        "company.custom_fields.nope",
    }, field_errors_from(error)


# --- lists ------------------------------------------------------------------------------------------


def test_filters_and_orders_on_custom_fields_stay_in_the_callers_scope(api: Api) -> None:
    for name in FIELDS:
        api.define(name)
    rows = [
        {"tier": "gold", "score": 3, "renewal": "2027-01-01", "newsletter": True, "colours": ["red"]},
        {
            "tier": "silver",
            "score": 10,
            "renewal": "2026-06-30",
            "newsletter": False,
            "colours": ["red", "blue"],
        },
        {"tier": "gold", "score": -1, "nickname": "Zed"},
        {},
    ]
    made = [api.contact(custom_fields=values).id for values in rows]
    theirs = api.contact(md=REP, custom_fields={"tier": "gold", "score": 100}).id
    a, b, c, d = made

    def ids(text: str, md: Any = ADMIN) -> set[str]:
        return set(api.ids(md=md, filter=text))

    assert ids('custom_fields.tier = "gold"') == {a, c, theirs}
    assert ids('custom_fields.tier != "gold"') == {b, d}
    assert ids("custom_fields.tier = null") == {d}
    assert ids("custom_fields.score >= 3 AND custom_fields.score < 100") == {a, b}
    assert ids('custom_fields.renewal < "2026-12-31"') == {b}
    assert ids("custom_fields.newsletter = true") == {a}
    assert ids('custom_fields.colours:"red" NOT custom_fields.colours:"blue"') == {a}
    assert ids('custom_fields.nickname : "ze"') == {c}
    # Scope first: a sales rep sees only their own contact, whatever the filter.
    assert ids('custom_fields.tier = "gold"', md=REP) == {theirs}

    ordered = api.ids(order_by="custom_fields.score desc", limit=50)
    assert ordered[:4] == [theirs, b, a, c]  # then the contact without a score (NULL is smallest)
    assert set(ordered[4:]) == {d}
    paged: list[str] = []
    cursor = ""
    while True:
        answer = api.contacts.ListContacts(
            contacts_pb2.ListContactsRequest(
                order_by="custom_fields.tier,custom_fields.score", limit=2, cursor=cursor
            ),
            metadata=ADMIN,
            timeout=10,
        )
        paged += [item.id for item in answer.items]
        cursor = answer.next_cursor
        if not cursor:
            break
    assert paged == [d, c, a, theirs, b]

    for request, name in (
        ({"order_by": "custom_fields.colours"}, "order_by"),
        ({"filter": 'custom_fields.colours = "red"'}, "filter"),
        ({"filter": 'custom_fields.score = "x"'}, "filter"),
        ({"filter": 'custom_fields.nope = "x"'}, "filter"),
    ):
        error = _refused(lambda request=request: api.ids(**request), grpc.StatusCode.INVALID_ARGUMENT)
        assert name in field_errors_from(error)


def test_tags_and_age_filters(api: Api) -> None:
    today = datetime.now(UTC).date()

    def born(years: int, days: int = 0) -> str:
        return date.fromordinal(years_before(today, years).toordinal() + days).isoformat()

    thirty = api.contact(tags=["VIP", "press"], birth_date=born(30)).id  # 30 today
    almost = api.contact(tags=["press"], birth_date=born(30, days=1)).id  # 30 tomorrow
    forty = api.contact(tags=["vipx"], birth_date=born(40, days=-1)).id
    unknown = api.contact().id
    assert set(api.ids(filter='tags:"vip"')) == {thirty}
    assert set(api.ids(filter='tags:"press" AND NOT tags:"vip"')) == {almost}
    assert set(api.ids(filter="tags = null")) == {unknown}
    assert set(api.ids(filter="age >= 30 AND age < 40")) == {thirty}
    assert set(api.ids(filter="age = 29")) == {almost}
    assert set(api.ids(filter="age > 39")) == {forty}
    assert set(api.ids(filter="age = null")) == {unknown}
    error = _refused(lambda: api.ids(filter='tags = "vip"'), grpc.StatusCode.INVALID_ARGUMENT)
    assert "tags is a list" in field_errors_from(error)["filter"]


# --- privacy ----------------------------------------------------------------------------------------


def test_values_are_exported_and_erased_with_the_person(api: Api, runtime: Runtime) -> None:
    api.define("nickname")
    api.define("colours")
    contact = api.contact(custom_fields={"nickname": "Countess", "colours": ["green"]})
    export = api.privacy.ExportPersonalData(
        common_privacy_pb2.ExportPersonalDataRequest(contact_id=contact.id), metadata=ADMIN, timeout=10
    )
    profile = json_format.MessageToDict(export.data)["profile"]
    assert profile["custom_fields"] == {"nickname": "Countess", "colours": ["green"]}
    api.privacy.EraseContact(privacy_pb2.EraseContactRequest(id=contact.id), metadata=ADMIN, timeout=10)
    erased = api.contacts.GetContact(
        contacts_pb2.GetContactRequest(id=contact.id), metadata=ADMIN, timeout=10
    )
    assert _custom(erased) == {}
    with runtime.engine.connect() as connection:
        left = connection.scalar(
            select(func.count()).select_from(CustomFieldValue).where(CustomFieldValue.record_id == contact.id)
        )
    assert left == 0
