"""The OpenAPI document is generated from the contracts, valid 3.1, describes exactly the routes served
(with the contract's rules and comments), and the docs page works offline."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from gateway import openapi
from gateway.app import API_PREFIX

IGNORED_METHODS = {"HEAD", "OPTIONS"}
CONTACTS = "/api/v1/contacts"
CONTACT = "/api/v1/contacts/{id}"


def shape(path: str) -> str:
    """A path with its parameters unnamed: Flask's `<v0>` and OpenAPI's `{id}` both become `{}`."""
    return re.sub(r"\{[^}]+\}", "{}", re.sub(r"<(?:[^:>]+:)?([^>]+)>", "{}", path))


def flask_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIX) or rule.rule in ("/healthz", "/readyz"):
            routes |= {(method.lower(), shape(rule.rule)) for method in rule.methods - IGNORED_METHODS}
    return routes


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method, path): op for path, item in document["paths"].items() for method, op in item.items()}


@pytest.fixture(scope="module")
def document(gateway) -> dict[str, Any]:
    reply = requests.get(f"{gateway.url}/api/v1/openapi.json", timeout=10)
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "application/json"
    found: dict[str, Any] = reply.json()
    return found


def resolve(document: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in item:
        kind, name = item["$ref"].split("/")[-2:]
        item = document["components"][kind][name]
    return item


def test_document_is_valid_openapi_3_1(document) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_route_is_documented_and_every_documented_route_exists(gateway, document) -> None:
    documented = {(method, shape(path)) for method, path in operations(document)}
    assert flask_routes(gateway.app) == documented


def test_every_transcoded_route_is_in_the_document_under_its_contract_path(gateway, document) -> None:
    served = gateway.app.extensions["crm_gateway"].routes
    assert len(served) >= 6
    for route in (s.route for s in served):
        operation = document["paths"][route.openapi_path][route.http_method.lower()]
        assert operation["operationId"] == route.operation_id


def test_path_parameters_are_named_as_the_path_spells_them(document) -> None:
    for (method, path), operation in operations(document).items():
        params = [resolve(document, p) for p in operation.get("parameters", [])]
        in_path = [p["name"] for p in params if p["in"] == "path"]
        assert in_path == re.findall(r"\{([^}]+)\}", path), (method, path)
        assert all(p["required"] for p in params if p["in"] == "path")
    # PATCH /contacts/{contact.id} in the contract: `id`, as on every other method of the resource.
    assert CONTACT in document["paths"]
    assert set(document["paths"][CONTACT]) == {"get", "patch", "delete"}
    assert "/api/v1/contacts/{contact.id}" not in document["paths"]


def test_operation_ids_are_unique(document) -> None:
    ids = [op["operationId"] for op in operations(document).values()]
    assert len(ids) == len(set(ids))


def test_protected_operations_use_the_bearer_scheme_and_describe_problems(document) -> None:
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert document["security"] == [{"bearerAuth": []}, {"apiKeyHeader": []}]  # either credential
    for (method, path), operation in operations(document).items():
        public = operation.get("security") == []
        responses = operation["responses"]
        if path.startswith(API_PREFIX) and not public:
            assert "401" in responses, (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                content = resolve(document, response)["content"]
                assert "application/problem+json" in content, (method, path, status)


def test_summaries_and_descriptions_come_from_the_proto_comments(gateway, document) -> None:
    contracts = gateway.app.extensions["crm_gateway"].contracts
    create = document["paths"][CONTACTS]["post"]
    assert create["summary"] == "Creates a contact"
    assert create["description"] == (
        "Creates a contact. Fails with ALREADY_EXISTS when another contact of its book has one of its "
        "emails (case-insensitive) or, unless `allow_duplicate`, one of its phone numbers (in E.164)."
    )
    assert "If-Match" in document["paths"][CONTACT]["patch"]["description"]
    assert (
        document["paths"][CONTACT + "/history"]["get"]["summary"]
        == "Every change made to a contact, newest first"
    )
    for served in gateway.app.extensions["crm_gateway"].routes:
        route = served.route
        operation = document["paths"][route.openapi_path][route.http_method.lower()]
        comment = contracts.comment(route.method.full_name)
        assert comment and operation["description"] == comment, route.rpc_path
        assert comment.startswith(operation["summary"]) and operation["tags"] == [route.service]
    [tag] = [t for t in document["tags"] if t["name"] == "contacts"]
    assert tag["description"].startswith("Contacts: the people the company has a relationship with")
    limit = next(p for p in document["paths"][CONTACTS]["get"]["parameters"] if p.get("name") == "limit")
    assert limit["description"] == "Page size: 1 to 200; 50 when not given."
    assert limit["schema"]["minimum"] == 0 and limit["schema"]["maximum"] == 200


# The people profile (crm.contacts.v1.Contact fields 14-35, CreateContactRequest 9-30), in field order.
PROFILE_FIELDS = (
    "emails",
    "phones",
    "addresses",
    "social_profiles",
    "job_title",
    "preferred_channel",
    "preferred_contact_time",
    "language",
    "time_zone",
    "lead_source",
    "industry",
    "occupation",
    "birth_date",
    "region",
    "country",
    "city",
    "important_dates",
    "hobbies",
    "interests",
    "memberships",
    "tags",
    "notes",
)


def test_the_create_body_carries_the_contracts_rules(document) -> None:
    body = document["paths"][CONTACTS]["post"]["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"first_name", "last_name", "email"}
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    assert set(properties) == {
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "owner_id",
        "team_id",
        "partner_account_id",
        *PROFILE_FIELDS,
        "allow_duplicate",
        "custom_fields",
        "external_id",
    }
    assert properties["first_name"] | {"type": "string"} == {
        "type": "string",
        "minLength": 1,
        "maxLength": 100,
        "pattern": r"^[^\x00-\x1F\x7F]*$",  # single-line text: no control characters
    }
    assert properties["email"]["format"] == "email" and properties["email"]["maxLength"] == 254
    assert properties["phone"]["pattern"] == r"^\+?[0-9 ()./-]*$" and properties["phone"]["maxLength"] == 40
    assert properties["company"]["maxLength"] == 200
    assert properties["phone"]["type"] == ["string", "null"]  # optional: null means no value
    assert "Unique among contacts" in properties["email"]["description"]


def test_the_contact_schema_has_every_field_and_marks_output_only_ones(document) -> None:
    contact = document["components"]["schemas"]["contacts.v1.Contact"]
    fields = [
        "id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "created_at",
        "updated_at",
        "etag",
        "archived_at",
        "owner_id",
        "team_id",
        "partner_account_id",
        *PROFILE_FIELDS,
        "custom_fields",
        "external_id",
    ]
    assert list(contact["properties"]) == fields and contact["required"] == fields
    # The defined custom fields are its properties (gateway/custom_fields.py); none are defined here.
    custom = contact["properties"]["custom_fields"]
    assert custom["properties"] == {} and custom["additionalProperties"] is False
    assert "/api/v1/custom-fields" in custom["description"]
    assert contact["additionalProperties"] is False
    read_only = {name for name, p in contact["properties"].items() if p.get("readOnly")}
    assert read_only == {"id", "created_at", "updated_at", "archived_at"}
    assert contact["properties"]["archived_at"]["format"] == "date-time"
    assert contact["properties"]["archived_at"]["description"].startswith("When the contact was archived")
    assert "If-Match" in contact["properties"]["etag"]["description"]
    assert contact["description"] == "A person the company has a relationship with."


def test_the_patch_body_is_partial_and_takes_if_match(document) -> None:
    patch = document["paths"][CONTACT]["patch"]
    schema = patch["requestBody"]["content"]["application/json"]["schema"]
    assert "required" not in schema  # a PATCH body names only what changes
    assert schema["properties"]["first_name"]["maxLength"] == 100
    assert schema["properties"]["email"]["format"] == "email"
    refs = [p.get("$ref", "") for p in patch["parameters"]]
    assert "#/components/parameters/IfMatch" in refs
    assert "update_mask" in [p.get("name") for p in patch["parameters"]]
    assert {"200", "400", "404", "412", "422"} <= set(patch["responses"])
    assert "ETag" in patch["responses"]["200"]["headers"]


def test_create_delete_and_history_responses(document) -> None:
    create = document["paths"][CONTACTS]["post"]
    assert set(create["responses"]["201"]["headers"]) >= {"Location", "Idempotent-Replayed"}
    assert "200" not in create["responses"]
    assert "#/components/parameters/IdempotencyKey" in [p.get("$ref") for p in create["parameters"]]
    delete = document["paths"][CONTACT]["delete"]
    assert delete["responses"]["204"] == {"description": "Done"}
    assert "412" in delete["responses"]
    history = document["paths"][CONTACT + "/history"]["get"]["responses"]["200"]
    assert history["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/common.v1.ListHistoryResponse"
    }
    entry = document["components"]["schemas"]["common.v1.HistoryEntry"]
    assert entry["properties"]["action"]["enum"] == ["created", "updated", "deleted", None]
    assert document["paths"][CONTACT]["get"]["responses"]["200"]["headers"]["ETag"]


def test_a_merged_record_answers_308_where_records_merge(document) -> None:
    """Contacts and companies merge; reading a merged one by its id is a 308 to the survivor."""
    for path, method in ((CONTACT, "get"), (CONTACT, "patch"), ("/api/v1/companies/{id}", "get")):
        assert document["paths"][path][method]["responses"]["308"] == {"$ref": "#/components/responses/Moved"}
    assert "Location" in document["components"]["responses"]["Moved"]["headers"]
    assert "308" not in document["paths"]["/api/v1/orders/{id}"]["get"]["responses"]  # orders never merge


def test_hand_written_routes_keep_their_schemas(document) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["TokenRequest"]["additionalProperties"] is False
    assert set(schemas["Customer360"]["required"]) >= {"contact", "unavailable"}
    contact = schemas["Customer360"]["properties"]["contact"]
    assert contact == {"anyOf": [{"$ref": "#/components/schemas/contacts.v1.Contact"}, {"type": "null"}]}
    assert "reason" in schemas["ProblemDetails"]["properties"]


def test_each_apps_document_describes_its_own_routes(gateway) -> None:
    """Documents are cached per app; another app's routes (here: half of them) get their own."""
    state = gateway.app.extensions["crm_gateway"]
    gets = [s for s in state.routes if s.route.http_method == "GET"]
    assert {m for _, item in openapi.document(gets, state.contracts)["paths"].items() for m in item} >= {
        "get"
    }
    del gets  # its id may now be reused by the next list, as by the routes of a newer app
    writes = [s for s in state.routes if s.route.http_method != "GET"]
    paths = openapi.document(writes, state.contracts)["paths"]
    transcoded = {(m, p) for p, item in paths.items() for m in item if p in (CONTACTS, CONTACT)}
    assert transcoded == {("post", CONTACTS), ("patch", CONTACT), ("delete", CONTACT)}


def test_docs_page_loads_every_asset_from_the_gateway(anonymous) -> None:
    page = anonymous.get("/docs")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.text
    assert "<html" in html.lower() and "swagger-ui" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        reply = anonymous.get(asset)
        assert reply.status_code == 200 and reply.content, asset
    bundle = anonymous.get("/docs/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text
    init = anonymous.get("/docs/init.js").text
    assert '"/api/v1/openapi.json"' in init


def test_swagger_ui_version_renders_openapi_3_1() -> None:
    from gateway.docs import SWAGGER_UI_DIR

    major = int((SWAGGER_UI_DIR / "VERSION").read_text().strip().lstrip("v").split(".")[0])
    assert major >= 5  # Swagger UI 4 refuses "openapi: 3.1.x" documents
