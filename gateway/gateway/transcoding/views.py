"""Serving the transcoded routes: one generic Flask view per route, registered at start."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc
from flask import Blueprint, Response, request
from google.protobuf.message import Message

from gateway.auth import current_caller, require_token
from gateway.idempotency import HEADER as IDEMPOTENCY_HEADER
from gateway.idempotency import request_key
from gateway.rpc_errors import problem_from_rpc_error
from gateway.state import state
from gateway.transcoding.contracts import Contracts
from gateway.transcoding.requests import build_request
from gateway.transcoding.responses import location_route, render
from gateway.transcoding.rules import Route, routes_of

IDEMPOTENCY_METADATA = "idempotency-key"
REPLAYED_METADATA = "idempotent-replayed"


@dataclass(frozen=True)
class ServedRoute:
    route: Route
    request_class: type[Message]
    response_class: type[Message]
    location: Route | None
    addressing_fields: frozenset[str]  # path and query fields: a bad one is a 400, not a 422


def collect_routes(contracts: Contracts) -> list[Route]:
    routes = [
        route for service in contracts.services() for method in service.methods for route in routes_of(method)
    ]
    seen: dict[tuple[str, str], str] = {}
    for route in routes:
        key = (route.http_method, route.flask_rule)
        if key in seen:
            raise ValueError(
                f"{route.method.full_name} and {seen[key]} both claim {route.http_method} {route.template}"
            )
        seen[key] = route.method.full_name
    return routes


def _addressing_fields(route: Route) -> frozenset[str]:
    if route.body == "*":
        return frozenset(v.name for v in route.variables)
    names = {v.name for v in route.variables}
    names.update(f.name for f in route.request.fields if f.name != route.body)
    return frozenset(names)


def _view(served: ServedRoute) -> Callable[..., Response]:
    route = served.route

    def view(**path_values: str) -> Response:
        message = build_request(route, served.request_class, path_values)
        metadata = list(current_caller().metadata())
        if request.method == "POST" and IDEMPOTENCY_HEADER in request.headers:
            metadata.append((IDEMPOTENCY_METADATA, request_key()))
        gateway = state()
        call = gateway.clients.unary(route.service, route.rpc_path, served.response_class)
        try:
            reply, outcome = call.with_call(
                message, timeout=gateway.settings.call_deadline_seconds, metadata=metadata
            )
        except grpc.RpcError as error:
            raise problem_from_rpc_error(
                error,
                route.service,
                body_field=route.body if route.body != "*" else "",
                addressing_fields=served.addressing_fields,
                path=request.path,
            ) from None
        replayed = any(
            key == REPLAYED_METADATA and value == "true" for key, value in outcome.initial_metadata() or ()
        )
        return render(route, reply, location=served.location, replayed=replayed)

    view.__name__ = route.operation_id.replace(".", "_")
    view.__doc__ = f"{route.http_method} {route.template} -> {route.rpc_path}"
    return view


def serve(contracts: Contracts) -> tuple[Blueprint, list[ServedRoute]]:
    """A blueprint with one route per annotated RPC (token required, as for every API route)."""
    routes = collect_routes(contracts)
    blueprint = Blueprint("rpc", __name__)
    blueprint.before_request(require_token)
    served_routes: list[ServedRoute] = []
    for route in routes:
        served = ServedRoute(
            route=route,
            request_class=contracts.message_class(route.request),
            response_class=contracts.message_class(route.response),
            location=location_route(route, routes),
            addressing_fields=_addressing_fields(route),
        )
        served_routes.append(served)
        blueprint.add_url_rule(
            route.flask_rule,
            endpoint=f"{route.operation_id.replace('.', '_')}_{len(served_routes)}",
            view_func=_view(served),
            methods=[route.http_method],
        )
    return blueprint, served_routes


def upstreams(routes: Sequence[ServedRoute]) -> set[str]:
    return {served.route.service for served in routes}
