"""Walks every annotated RPC the gateway serves (the platform's contracts and the echo one): each has its
route, is documented, needs a token, refuses unknown fields naming them, and answers bad input with
problem+json. These checks are all made by the gateway before it calls a service, so they hold for
every service, present and future."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.transcoding.rules import Route
from gateway.transcoding.views import ServedRoute

PROBLEM = "application/problem+json"


def _routes(echo_gateway) -> list[ServedRoute]:
    return list(echo_gateway.app.extensions["crm_gateway"].routes)


def _url(route: Route) -> str:
    # A plausible id in every path variable.
    return re.sub(r"\{[^}]+\}", "abc123", route.openapi_path)


def _problem(reply: Any, status: int) -> dict[str, Any]:
    assert reply.status_code == status, (reply.status_code, reply.text[:300])
    assert reply.headers["Content-Type"].startswith(PROBLEM)
    body: dict[str, Any] = reply.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


def test_every_annotated_rpc_is_served_and_documented(echo_gateway) -> None:
    served = _routes(echo_gateway)
    methods = {s.route.method.full_name for s in served}
    assert {"crm.contacts.v1.ContactsService.CreateContact", "crm.echo.v1.EchoService.PinNote"} <= methods
    document = (
        echo_gateway.session(token=None).get(f"{echo_gateway.url}/api/v1/openapi.json", timeout=5).json()
    )
    rules = {(r.rule, m) for r in echo_gateway.app.url_map.iter_rules() for m in r.methods or ()}
    for route in (s.route for s in served):
        assert (route.flask_rule, route.http_method) in rules, route.template
        operation = document["paths"][route.openapi_path][route.http_method.lower()]
        assert operation["operationId"] == route.operation_id
        assert operation["tags"] == [route.service]
        assert "401" in operation["responses"] and "400" in operation["responses"]
        assert "security" not in operation  # the document-wide bearer requirement applies


def test_every_route_requires_a_token(echo_gateway) -> None:
    anonymous = echo_gateway.session(token=None)
    for route in (s.route for s in _routes(echo_gateway)):
        reply = anonymous.request(route.http_method, f"{echo_gateway.url}{_url(route)}", json={}, timeout=5)
        _problem(reply, 401)
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_route_refuses_unknown_fields_naming_them(echo_gateway) -> None:
    http = echo_gateway.session()
    for route in (s.route for s in _routes(echo_gateway)):
        url = f"{echo_gateway.url}{_url(route)}"
        if route.body:
            reply = http.request(route.http_method, url, json={"zz_not_a_field": 1}, timeout=5)
        else:
            reply = http.request(route.http_method, url, params={"zz_not_a_field": "1"}, timeout=5)
        problem = _problem(reply, 400)
        assert {"field": "zz_not_a_field", "message": problem["errors"][0]["message"]} in problem["errors"], (
            route
        )


@pytest.mark.parametrize(
    "body",
    [b"{", b"[1]", b"null", b'"text"', b'{"a": "\\ud800"}', b""],
    ids=["truncated", "array", "null", "string", "lone-surrogate", "empty"],
)
def test_every_route_with_a_body_answers_bad_json_with_a_problem(echo_gateway, body: bytes) -> None:
    http = echo_gateway.session()
    for route in (s.route for s in _routes(echo_gateway) if s.route.body):
        reply = http.request(
            route.http_method,
            f"{echo_gateway.url}{_url(route)}",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=5,
        )
        _problem(reply, 400)
        wrong_type = http.request(
            route.http_method, f"{echo_gateway.url}{_url(route)}", data=b"a=b", timeout=5,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        _problem(wrong_type, 415)
