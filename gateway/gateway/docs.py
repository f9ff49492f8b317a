"""Publishing the API description: the OpenAPI document and Swagger UI at /docs.

Swagger UI's files come from the flask-swagger-ui package and are served by the gateway itself: the
page must work on machines without internet access, and a CDN would be a third party in every session.
"""

from __future__ import annotations

import json
from pathlib import Path

import flask_swagger_ui
import orjson
from flask import Blueprint, Response, current_app, send_from_directory, url_for

from crm.contacts.v1 import custom_fields_pb2
from gateway import custom_fields, openapi
from gateway.auth import public
from gateway.identity.caller_context import signed_gateway_context
from gateway.state import state

SWAGGER_UI_DIR = Path(flask_swagger_ui.__file__).resolve().parent / "dist"

# Under /api/v1 (mounted by app.py): the document is public so the docs page can load it without a token.
spec_bp = Blueprint("openapi", __name__)
# At /docs.
docs_bp = Blueprint("docs", __name__, url_prefix="/docs")

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="stylesheet" href="{css}">
  <link rel="icon" type="image/png" href="{icon}">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{bundle}"></script>
  <script src="{init}"></script>
</body>
</html>
"""


@spec_bp.get("/openapi.json")
@public
def openapi_document() -> Response:
    gateway = state()
    document = _with_custom_fields().served(openapi.document(gateway.routes, gateway.contracts))
    return Response(orjson.dumps(document), mimetype="application/json")


def _with_custom_fields() -> custom_fields.DocumentWithDefinitions:
    """This app's document filler (gateway/custom_fields.py), made on first use."""
    found = current_app.extensions.get(_CUSTOM_FIELDS)
    if found is None:
        gateway = state()
        upstream = custom_fields.upstream_of(gateway.routes)
        cache = None
        if upstream:
            call = gateway.clients.unary(
                upstream, custom_fields.LIST_METHOD, custom_fields_pb2.ListCustomFieldsResponse
            )
            cache = custom_fields.DefinitionsCache(
                lambda: custom_fields.fetch_from(
                    call, lambda: signed_gateway_context(custom_fields.READ_DEFINITIONS)
                )
            )
        found = current_app.extensions[_CUSTOM_FIELDS] = custom_fields.DocumentWithDefinitions(
            gateway.routes, cache
        )
    return found


_CUSTOM_FIELDS = "crm_gateway_custom_fields"


# Everything the page needs comes from the gateway itself; the policy makes that a guarantee.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'"
)


@docs_bp.get("")
@docs_bp.get("/")
def page() -> Response:
    html = _PAGE.format(
        title=openapi.TITLE,
        css=url_for(".asset", filename="swagger-ui.css"),
        icon=url_for(".asset", filename="favicon-32x32.png"),
        bundle=url_for(".asset", filename="swagger-ui-bundle.js"),
        init=url_for(".initializer"),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@docs_bp.get("/init.js")
def initializer() -> Response:
    # A script file rather than inline script, so a strict Content-Security-Policy can forbid inline code.
    options = {"url": url_for("api.openapi.openapi_document"), "dom_id": "#swagger-ui", "deepLinking": True}
    script = f"window.ui = SwaggerUIBundle({json.dumps(options)});\n"
    return Response(script, mimetype="text/javascript")


@docs_bp.get("/<path:filename>")
def asset(filename: str) -> Response:
    return send_from_directory(SWAGGER_UI_DIR, filename, max_age=86400)
