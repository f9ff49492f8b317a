"""The platform the authorization matrix runs against, and the people in it.

The five real services (real servicers over real gRPC, SQLite) behind the real in-process gateway, as in
tests/contract/conftest.py; then, through the identity API as the bootstrap admin: teams A and B,
partner accounts P1 and P2, one user per built-in staff role in team A, a second sales rep in team A, a
sales rep in team B and a partner user in each partner account. Every caller signs in through
/auth/token like a client would.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from crm_platform.grpc_server import GrpcServer
from crm_platform.testing.service_server import peers, serve_in_process
from gateway.app import create_app
from gateway.main import prepare
from gateway.settings import SERVICES, GatewaySettings

from .matrix import PREPARED_FIELDS, Caller

ADMIN_EMAIL = "matrix-admin@example.com"
# A throwaway password of a throwaway test database.
PASSWORD = "matrix-password-1234"
STAFF_ROLES = ("admin", "manager", "sales_rep", "marketer", "support_agent", "read_only")
# A custom role (issue 8: `/api/v1/roles`), so the matrix also holds for rights no built-in role has.
CUSTOM_ROLE = "contact_team_clerk"
CUSTOM_PERMISSIONS = {"contact": {"create": "own", "read": "team", "update": "team", "delete": "none"}}


@dataclass
class World:
    url: str
    app: Any
    admin: Caller  # the bootstrap admin (no team): sets everything up and is the ground truth
    callers: dict[str, Caller]
    teams: dict[str, str]  # label -> id
    partners: dict[str, str]  # label -> id
    # Targets for non-admins' attempts at identity management: if a refusal ever fails, only these suffer.
    victims: dict[str, str] = field(default_factory=dict)
    # One session (one kept-alive connection) per caller: the matrix's ~20,000 requests otherwise each
    # paid for a new connection and a new server thread. Each request still carries its caller's token.
    _sessions: dict[str | None, requests.Session] = field(default_factory=dict)

    def http(self, caller: Caller | None) -> requests.Session:
        key = caller.token if caller is not None else None
        session = self._sessions.get(key)
        if session is None:
            session = self._sessions[key] = _PatientSession()
            if caller is not None:
                session.headers["Authorization"] = f"Bearer {caller.token}"
        return session

    @property
    def everyone(self) -> list[Caller]:
        return [self.admin, *self.callers.values()]


class _PatientSession(requests.Session):
    """Asks a GET again once when it was answered 504: a service that missed the gateway's deadline on a
    loaded machine (the whole suite on two cores) says nothing about who may see what, and a GET is
    safe to repeat. A second 504 stands and the matrix reports it; writes are never repeated."""

    def __init__(self) -> None:
        super().__init__()
        # No proxy or netrc lookups in the environment for each of the matrix's ~20k requests (a few
        # percent of its CPU): the gateway is on 127.0.0.1.
        self.trust_env = False

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        reply = super().request(method, url, *args, **kwargs)
        if reply.status_code == 504 and str(method).upper() == "GET":
            reply = super().request(method, url, *args, **kwargs)
        # JSON is UTF-8 (RFC 8259): without this, each .text guesses the charset (charset_normalizer).
        reply.encoding = reply.encoding or "utf-8"
        return reply


def _start_service(name: str, data_dir: Path) -> tuple[GrpcServer, Any]:
    return serve_in_process(name, f"sqlite:///{data_dir / name}.db")


@pytest.fixture(scope="session")
def platform_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    work: Path = tmp_path_factory.mktemp("security")
    started = {name: _start_service(name, work) for name in SERVICES}
    settings = GatewaySettings(
        jwt_secret=secrets.token_urlsafe(48),
        admin_email=ADMIN_EMAIL,
        admin_password=PASSWORD,
        database_url=f"sqlite:///{work / 'gateway.db'}",
        service_addrs={name: f"127.0.0.1:{server.port}" for name, (server, _) in started.items()},
        # Cheap hashes: a dozen users sign in, and hashing cost is not what this test is about.
        argon2_memory_kib=1024,
        argon2_time_cost=1,
        # Every caller signs in once, before the matrix: on a loaded machine the run outlasts the
        # default 15 minutes (seen at load 20), and an expired token is not what this test is about.
        token_ttl_seconds=3 * 3600,
        # Every service and the gateway share this pytest worker's interpreter: in a loaded clean-clone
        # run a write (POST .../people) outlasted the default 2 s and answered 504 where the matrix
        # expected 404. Who may do what is judged here, not latency (the benches measure that).
        call_deadline_seconds=8.0,
        # Likewise each section of a customer-360 (1 s by default): a contacts overview answered after
        # it left the view's contact null, which the matrix reads as the caller not seeing it.
        service_deadline_seconds=8.0,
    )
    prepare(settings)
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with peers(settings.service_addrs):  # sales asks contacts as the caller
            yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        app.extensions["crm_gateway"].close()
        for grpc_server, runtime in started.values():
            grpc_server.stop(0)
            runtime.engine.dispose()


def _ok(reply: requests.Response, status: int = 201) -> dict[str, Any]:
    assert reply.status_code == status, (reply.request.method, reply.url, reply.status_code, reply.text[:500])
    body: dict[str, Any] = reply.json()
    return body


def _sign_in(url: str, email: str) -> str:
    reply = requests.post(f"{url}/api/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=10)
    return str(_ok(reply, 200)["access_token"])


@pytest.fixture(scope="session")
def world(platform_url: tuple[str, Any]) -> World:
    url, app = platform_url
    api = f"{url}/api/v1"
    token = _sign_in(url, ADMIN_EMAIL)
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    me = _ok(http.get(f"{api}/me", timeout=10), 200)
    admin = Caller("bootstrap_admin", me["id"], token, tuple(me["roles"]), (), None)

    teams = {
        label: _ok(http.post(f"{api}/teams", json={"name": f"Team {label}"}, timeout=10))["id"]
        for label in ("A", "B", "victim")
    }
    partners = {
        label: _ok(
            http.post(f"{api}/partner-accounts", json={"name": f"Partner {label}", "kind": kind}, timeout=10)
        )["id"]
        for label, kind in (("P1", "distributor"), ("P2", "reseller"))
    }
    _ok(http.post(f"{api}/roles", json={"name": CUSTOM_ROLE, "permissions": CUSTOM_PERMISSIONS}, timeout=10))
    people: list[tuple[str, tuple[str, ...], tuple[str, ...], str | None]] = [
        *((role, (role,), (teams["A"],), None) for role in STAFF_ROLES),
        ("sales_rep_a2", ("sales_rep",), (teams["A"],), None),
        ("sales_rep_b", ("sales_rep",), (teams["B"],), None),
        # Beyond the brief's callers: a custom role, and two roles over two teams (rights are a union).
        ("custom_clerk_b", (CUSTOM_ROLE,), (teams["B"],), None),
        ("multi_role_ba", ("sales_rep", "support_agent"), (teams["B"], teams["A"]), None),
        ("partner_p1", ("partner",), (), partners["P1"]),
        ("partner_p2", ("partner",), (), partners["P2"]),
    ]
    callers: dict[str, Caller] = {}
    for name, roles, team_ids, partner in people:
        email = f"{name.replace('_', '-')}@example.com"
        user = _ok(
            http.post(
                f"{api}/users",
                json={
                    "email": email,
                    "name": name,
                    "password": PASSWORD,
                    "roles": list(roles),
                    "team_ids": list(team_ids),
                    "partner_account_id": partner,
                },
                timeout=10,
            )
        )
        custom = {CUSTOM_ROLE: CUSTOM_PERMISSIONS} if CUSTOM_ROLE in roles else {}
        callers[name] = Caller(name, user["id"], _sign_in(url, email), roles, team_ids, partner, custom)

    victim_user = _ok(
        http.post(
            f"{api}/users",
            json={"email": "victim@example.com", "password": PASSWORD, "roles": ["read_only"]},
            timeout=10,
        )
    )
    victim_role = _ok(
        http.post(
            f"{api}/roles",
            json={"name": "victim_role", "permissions": {"contact": {"read": "own"}}},
            timeout=10,
        )
    )
    victim_key = _ok(
        http.post(f"{api}/api-keys", json={"name": "victim key", "scopes": ["contacts:read"]}, timeout=10)
    )
    victims = {
        "user_id": victim_user["id"],
        "team_id": teams["victim"],
        "name": victim_role["name"],
        "key_id": victim_key["id"],
        "account_id": partners["P1"],
    }
    world = World(url, app, admin, callers, teams, partners, victims)
    _prepare_ordering(world, http)
    # Tasks and appointments are about something (sales keeps a contact's id as given); an appointment
    # has a time.
    PREPARED_FIELDS["crm.sales.v1.CreateTaskRequest"] = {"contact_id": "matrix-contact"}
    PREPARED_FIELDS["crm.sales.v1.CreateAppointmentRequest"] = {
        "contact_id": "matrix-contact",
        "start_at": "2030-01-01T09:00:00Z",
        "end_at": "2030-01-01T10:00:00Z",
    }
    # A deal registration names its company by a domain: one of its own per registration, which the
    # registration finds or makes in the book of its partner account (sales asks contacts as the caller).
    PREPARED_FIELDS["crm.sales.v1.CreateDealRegistrationRequest"] = {
        "company_name": "Matrix registered company",
        "company_domain": lambda serial: f"matrix-registered-{serial}.example.com",
    }
    # One quota per owner and period: a period of its own per quota (a year: "1001", "1002"...).
    PREPARED_FIELDS["crm.sales.v1.CreateQuotaRequest"] = {"period": lambda serial: str(1000 + serial)}
    return world


def _prepare_ordering(world: World, http: requests.Session) -> None:
    """What an order needs before anyone can place one: a product on a price list assigned to both
    partner accounts, and terms for each naming that list with room for every order the matrix places.
    Staff orders name the list; a partner's must name its terms' one, which is the same list."""
    api = f"{world.url}/api/v1"
    product = _ok(http.post(f"{api}/products", json={"sku": "MATRIX-1", "name": "Matrix widget"}, timeout=10))
    price_list = _ok(
        http.post(
            f"{api}/price-lists",
            json={
                "name": "Matrix list",
                "currency": "EUR",
                "prices": [{"product_id": product["id"], "unit_amount_minor": 1000}],
                "partner_account_ids": list(world.partners.values()),
            },
            timeout=10,
        )
    )
    for partner in world.partners.values():
        terms = {
            "price_list_id": price_list["id"],
            "credit_limit": {"amount_minor": 10**12, "currency": "EUR"},
            "payment_terms_days": 30,
        }
        _ok(http.patch(f"{api}/partner-accounts/{partner}/terms", json=terms, timeout=10), 200)
    PREPARED_FIELDS["crm.sales.v1.CreateOrderRequest"] = {
        "lines": [{"product_id": product["id"], "quantity": 1}],
        "price_list_id": price_list["id"],
    }
    # A quote is priced from the same list (a partner account's quote from its terms', the same one).
    PREPARED_FIELDS["crm.sales.v1.CreateQuoteRequest"] = {
        "lines": [{"product_id": product["id"], "quantity": 1}],
        "price_list_id": price_list["id"],
    }
