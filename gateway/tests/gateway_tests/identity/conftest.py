"""Fixtures for the identity tests: users made through the API (and signed in over real HTTP)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests


@dataclass
class Person:
    id: str
    email: str
    password: str
    client: Any  # the conftest's Client, signed in as this person
    refresh_token: str


def sign_in(gateway: Any, email: str, password: str) -> dict[str, Any]:
    reply = requests.post(
        f"{gateway.url}/api/v1/auth/token", json={"email": email, "password": password}, timeout=10
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


@pytest.fixture
def person(gateway: Any, api: Any) -> Iterator[Callable[..., Person]]:
    """Factory: a user created by the admin through POST /users, then signed in."""
    made: list[Person] = []

    def make(roles: tuple[str, ...] = ("sales_rep",), **fields: Any) -> Person:
        email, password = api.new_email(), secrets.token_urlsafe(16)
        reply = api.post(
            "/api/v1/users",
            json={
                "email": email,
                "name": "Test Person",
                "password": password,
                "roles": list(roles),
                **fields,
            },
        )
        assert reply.status_code == 201, reply.text
        tokens = sign_in(gateway, email, password)
        who = Person(
            reply.json()["id"],
            email,
            password,
            gateway.client(tokens["access_token"]),
            tokens["refresh_token"],
        )
        made.append(who)
        return who

    yield make
    for who in made:
        who.client.http.close()


@pytest.fixture
def partner_account(api: Any) -> Callable[..., dict[str, Any]]:
    def make(kind: str = "reseller") -> dict[str, Any]:
        reply = api.post(
            "/api/v1/partner-accounts", json={"name": f"Partner {secrets.token_hex(4)}", "kind": kind}
        )
        assert reply.status_code == 201, reply.text
        created: dict[str, Any] = reply.json()
        return created

    return make


@pytest.fixture
def team(api: Any) -> Callable[..., dict[str, Any]]:
    def make(member_ids: list[str] | None = None) -> dict[str, Any]:
        reply = api.post(
            "/api/v1/teams", json={"name": f"Team {secrets.token_hex(4)}", "member_ids": member_ids or []}
        )
        assert reply.status_code == 201, reply.text
        created: dict[str, Any] = reply.json()
        return created

    return make
