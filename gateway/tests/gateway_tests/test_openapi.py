"""The OpenAPI document is valid 3.1, describes every route, and the docs page works offline."""

from __future__ import annotations

import re

from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from gateway.app import API_PREFIX

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def flask_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIX) or rule.rule in ("/healthz", "/readyz"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            routes |= {(method.lower(), path) for method in rule.methods - IGNORED_METHODS}
    return routes


def test_document_is_valid_openapi_3_1(anonymous) -> None:
    reply = anonymous.get("/api/v1/openapi.json")
    assert reply.status_code == 200
    document = reply.json()
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_route_is_documented_and_every_documented_route_exists(gateway, anonymous) -> None:
    document = anonymous.get("/api/v1/openapi.json").json()
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert flask_routes(gateway.app) == documented


def test_protected_operations_use_the_bearer_scheme_and_describe_problems(anonymous) -> None:
    document = anonymous.get("/api/v1/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert document["security"] == [{"bearerAuth": []}]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            public = operation.get("security") == []
            responses = operation["responses"]
            if path.startswith(API_PREFIX) and not public:
                assert "401" in responses, (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    ref = response.get("$ref", "")
                    content = (
                        response.get("content")
                        or document["components"]["responses"][ref.rsplit("/", 1)[-1]]["content"]
                    )
                    assert "application/problem+json" in content, (method, path, status)


def test_request_schemas_come_from_the_validating_models(anonymous) -> None:
    schemas = anonymous.get("/api/v1/openapi.json").json()["components"]["schemas"]
    create = schemas["ContactCreate"]
    assert set(create["required"]) == {"first_name", "last_name", "email"}
    assert create["additionalProperties"] is False
    assert schemas["Customer360"]["properties"]["unavailable"]


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
