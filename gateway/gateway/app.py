"""The Flask application factory: wires settings, storage, clients and routes into one WSGI app.

`create_app` opens nothing that must not cross a fork: the database engine connects on first use and
gRPC channels are opened lazily by `ServiceClients`, so under gunicorn every worker gets its own.
Migrations and the bootstrap admin are not done here but once, in the master (see main.py).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask

from crm_platform import telemetry
from gateway import docs, health, metrics, path_segments, problems, request_spans
from gateway.auth import require_token
from gateway.clients import ServiceClients
from gateway.database import open_database
from gateway.identity import routes as identity_routes
from gateway.identity.runtime import IdentityRuntime
from gateway.routes import auth as auth_routes
from gateway.routes import calendar_feeds as calendar_feed_routes
from gateway.routes import customers as customer_routes
from gateway.routes import imports as imports_routes
from gateway.routes import privacy as privacy_routes
from gateway.routes import web_forms as web_form_routes
from gateway.settings import GatewaySettings
from gateway.state import GatewayState
from gateway.transcoding import views as transcoded
from gateway.transcoding.contracts import PLATFORM_CONTRACTS, Contracts

API_PREFIX = "/api/v1"


def _api_blueprint() -> Blueprint:
    api = Blueprint("api", __name__, url_prefix=API_PREFIX)
    # Token required for every route under /api/v1 unless its view is marked @public.
    api.before_request(require_token)
    for child in (
        auth_routes.bp,
        customer_routes.bp,
        imports_routes.bp,
        privacy_routes.bp,
        web_form_routes.bp,
        calendar_feed_routes.bp,
        docs.spec_bp,
        *identity_routes.blueprints(),
    ):
        api.register_blueprint(child)
    return api


def create_app(
    settings: GatewaySettings, *, metrics_token: str | None = None, watch_channels: bool = False
) -> Flask:
    """`metrics_token` defaults to GATEWAY_METRICS_TOKEN; `watch_channels` for a serving worker
    (gateway.clients.ServiceClients)."""
    telemetry.setup("gateway")
    app = Flask("gateway")
    path_segments.install(app)
    # Werkzeug answers 413 (as problem+json via problems.install) for larger bodies, before reading them.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep fields in their documented order

    database = open_database(settings.database_url)
    # Every route a service owns comes from its contract: no per-endpoint code here.
    contracts = Contracts.load([PLATFORM_CONTRACTS, *map(Path, settings.extra_contracts)])
    rpc_routes, served = transcoded.serve(contracts)
    identity = IdentityRuntime.build(settings, database.sessions)
    identity.install(app)
    GatewayState(
        settings=settings,
        database=database,
        clients=ServiceClients(settings.service_addrs, watch_channels=watch_channels),
        tokens=identity.tokens,
        authenticator=identity.authenticator,
        routes=served,
        contracts=contracts,
    ).install(app)

    problems.install(app)
    metrics.install(app, metrics.METRICS_TOKEN.get() if metrics_token is None else metrics_token)
    app.register_blueprint(_api_blueprint())
    app.register_blueprint(rpc_routes)
    app.register_blueprint(health.bp)
    app.register_blueprint(docs.docs_bp)
    # The request span becomes the parent of the gRPC client spans the views start (probes and scrapes
    # are not traced).
    request_spans.install(app)
    return app
