"""Customer-360: every service asked at once, each under its own deadline; partial views, not failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from crm.sales.v1 import sales_pb2, sales_pb2_grpc
from crm.support.v1 import support_pb2, support_pb2_grpc
from crm_platform.db import transaction
from gateway import customer360
from gateway.circuit_breaker import BreakerPolicy, CircuitBreakers
from gateway.users import create_user
from notifications import store as notifications_store
from notifications.domain import welcome_message


def test_all_services_up_gives_every_section(services, api) -> None:
    contact = api.create_contact(first_name="Ada", company="Engines")
    with transaction(services["notifications"].runtime.sessions) as session:
        notifications_store.add_notification(
            session, contact["id"], welcome_message("Ada", "Engines"), "event-1"
        )
    reply = api.get(f"/api/v1/customers/{contact['id']}/360")
    assert reply.status_code == 200, reply.text
    view = reply.json()
    api.assert_documented(view, "Customer360")
    assert view["unavailable"] == [] and view["unavailable_reasons"] == {}
    assert view["contact"] == contact
    # A new contact: no companies, consents unknown, its timeline empty until the worker adds to it.
    assert view["companies"] == [] and view["timeline"] == []
    assert {(c["channel"], c["status"]) for c in view["consents"]} >= {
        ("email", "unknown"),
        ("post", "unknown"),
    }
    assert view["counts"] == {
        "interactions": 0,
        "timeline_entries": 0,
        "companies": 0,
        "last_interaction_at": None,
    }
    for section in ("sales", "marketing", "support"):
        assert view[section]["contact_id"] == contact["id"]
    assert view["sales"]["open_pipeline_value"] == []
    [welcome] = view["notifications"]["items"]
    assert welcome["kind"] == "welcome" and "Ada" in welcome["title"]
    assert welcome["created_at"].endswith("Z")


def test_unknown_contact_is_404(api) -> None:
    problem = api.assert_problem(api.get("/api/v1/customers/00000000-0000-4000-8000-000000000000/360"), 404)
    assert "00000000-0000-4000-8000-000000000000" in problem["detail"]


def test_a_stopped_service_is_listed_as_unavailable(service_factory, own_gateway) -> None:
    sales = service_factory("sales")
    running = own_gateway({"sales": sales.address})
    client = running.client()
    contact = client.create_contact()
    sales.stop()
    started = time.monotonic()
    reply = client.get(f"/api/v1/customers/{contact['id']}/360")
    elapsed = time.monotonic() - started
    assert reply.status_code == 200, reply.text
    view = reply.json()
    assert view["unavailable"] == ["sales"]
    assert view["unavailable_reasons"] == {"sales": "service unavailable (UNAVAILABLE)"}
    assert view["sales"] is None
    client.assert_documented(view, "Customer360")
    assert view["contact"]["id"] == contact["id"]
    assert view["marketing"] is not None and view["support"] is not None
    assert elapsed < running.settings.service_deadline_seconds + 0.5


def test_contacts_down_still_answers_with_the_other_sections(service_factory, own_gateway, api) -> None:
    contact = api.create_contact()
    contacts = service_factory("contacts")
    running = own_gateway({"contacts": contacts.address})
    contacts.stop()
    view = running.client().get(f"/api/v1/customers/{contact['id']}/360").json()
    assert view["unavailable"] == ["contacts"]
    assert view["contact"] is None and view["sales"]["contact_id"] == contact["id"]
    assert [view[key] for key in customer360.CONTACT_PARTS] == [None] * 5


class _Release:
    """Lets slow servicers return as soon as the test is over, so servers stop without waiting."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def wait(self, seconds: float) -> None:
        self.event.wait(seconds)


@pytest.fixture
def release() -> Iterator[_Release]:
    released = _Release()
    yield released
    released.event.set()


# service -> (servicer base class, method, add-to-server function, reply for a contact id)
_SLOW_ANSWERS: dict[str, tuple[type, str, Any, Any]] = {
    "sales": (
        sales_pb2_grpc.SalesServiceServicer,
        "GetSalesSummary",
        sales_pb2_grpc.add_SalesServiceServicer_to_server,
        lambda contact_id: sales_pb2.SalesSummary(contact_id=contact_id, open_deals=1),
    ),
    "support": (
        support_pb2_grpc.SupportServiceServicer,
        "GetSupportSummary",
        support_pb2_grpc.add_SupportServiceServicer_to_server,
        lambda contact_id: support_pb2.SupportSummary(contact_id=contact_id, open_tickets=2),
    ),
}


def slow(service: str, release: _Release, seconds: float) -> Any:
    """Registers a servicer for `service` whose summary answers only after `seconds`."""
    base, method, add, reply = _SLOW_ANSWERS[service]

    def answer(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        release.wait(seconds)
        return reply(request.contact_id)

    servicer = type(f"Slow{base.__name__}", (base,), {method: answer})()
    return lambda server: add(servicer, server)


def test_a_hung_service_is_cut_at_its_deadline(raw_server, own_gateway, release) -> None:
    hung = raw_server("support", slow("support", release, 30))
    running = own_gateway({"support": f"127.0.0.1:{hung.port}"}, service_deadline_seconds=0.5)
    client = running.client()
    contact = client.create_contact()
    started = time.monotonic()
    reply = client.get(f"/api/v1/customers/{contact['id']}/360")
    elapsed = time.monotonic() - started
    assert reply.status_code == 200
    view = reply.json()
    assert view["unavailable"] == ["support"] and view["support"] is None
    assert view["unavailable_reasons"] == {"support": "service did not answer within 0.5 s"}
    assert view["contact"]["id"] == contact["id"] and view["sales"] is not None
    assert 0.45 <= elapsed < 1.2


def test_a_section_whose_renderer_raises_is_unavailable(api, monkeypatch) -> None:
    contact = api.create_contact()

    def broken(message: Any) -> Any:
        raise RuntimeError("a bug in the sales section")

    monkeypatch.setitem(customer360.RENDERERS, "sales", broken)
    reply = api.get(f"/api/v1/customers/{contact['id']}/360")
    assert reply.status_code == 200, reply.text
    view = reply.json()
    assert view["unavailable"] == ["sales"] and view["sales"] is None
    assert view["unavailable_reasons"] == {"sales": "section could not be rendered"}
    assert view["contact"]["id"] == contact["id"] and view["support"]["contact_id"] == contact["id"]
    api.assert_documented(view, "Customer360")


def test_a_contacts_section_that_cannot_render_leaves_every_part_null(api, monkeypatch) -> None:
    contact = api.create_contact()

    def broken_after_the_contact(overview: Any) -> Any:
        customer360.protojson.encode(overview.contact)
        raise RuntimeError("a bug in the counts")

    monkeypatch.setitem(customer360.RENDERERS, "contacts", broken_after_the_contact)
    view = api.get(f"/api/v1/customers/{contact['id']}/360").json()
    assert view["unavailable_reasons"] == {"contacts": "section could not be rendered"}
    assert [view[key] for key in customer360.CONTACT_PARTS] == [None] * 5
    assert view["support"]["contact_id"] == contact["id"]
    api.assert_documented(view, "Customer360")


def timed_360(client: Any, contact_id: str) -> tuple[float, dict[str, Any]]:
    started = time.monotonic()
    reply = client.get(f"/api/v1/customers/{contact_id}/360")
    elapsed = time.monotonic() - started
    assert reply.status_code == 200, reply.text
    return elapsed, reply.json()


def test_an_open_circuit_answers_at_once_and_a_probe_closes_it(raw_server, own_gateway, release) -> None:
    hung = raw_server("support", slow("support", release, 30))
    running = own_gateway({"support": f"127.0.0.1:{hung.port}"}, service_deadline_seconds=0.5)
    policy = BreakerPolicy(failures=2, cool_down_seconds=1.0)
    customer360.install_breakers(running.app.extensions["crm_gateway"].clients, CircuitBreakers(policy))
    client = running.client()
    contact = client.create_contact()
    for _ in range(2):  # each costs the deadline, and the second opens the circuit
        elapsed, view = timed_360(client, contact["id"])
        assert elapsed >= 0.45 and view["unavailable"] == ["support"]
    answers = [timed_360(client, contact["id"]) for _ in range(5)]
    for elapsed, view in answers:
        assert view["unavailable_reasons"] == {"support": "service unavailable (circuit open)"}
        assert view["contact"]["id"] == contact["id"] and view["sales"] is not None
        assert elapsed < 0.25, elapsed  # not the 0.5 s deadline: the service is not asked
    client.assert_documented(answers[0][1], "Customer360")
    release.event.set()  # the service answers again (at once)
    time.sleep(1.05)  # the cool-down: the next view probes
    _, view = timed_360(client, contact["id"])
    assert view["unavailable"] == [] and view["support"]["open_tickets"] == 2


def test_services_are_asked_in_parallel(raw_server, own_gateway, release) -> None:
    """Two services that each take 0.6 s: asked one after the other the page would take 1.2 s."""
    sales = raw_server("sales", slow("sales", release, 0.6))
    support = raw_server("support", slow("support", release, 0.6))
    running = own_gateway(
        {"sales": f"127.0.0.1:{sales.port}", "support": f"127.0.0.1:{support.port}"},
        service_deadline_seconds=2.0,
    )
    client = running.client()
    contact = client.create_contact()
    client.get(f"/api/v1/customers/{contact['id']}/360")  # opens the channels
    started = time.monotonic()
    view = client.get(f"/api/v1/customers/{contact['id']}/360").json()
    elapsed = time.monotonic() - started
    assert view["unavailable"] == []
    assert view["sales"]["open_deals"] == 1 and view["support"]["open_tickets"] == 2
    assert 0.6 <= elapsed < 1.1


def test_sections_the_caller_may_not_read_are_forbidden_not_unavailable(gateway, api) -> None:
    # A custom role that may read contacts and tickets, nothing about deals, campaigns or notifications.
    role = {
        "name": "contacts_and_tickets",
        "permissions": {"contact": {"read": "all", "create": "all"}, "ticket": {"read": "all"}},
    }
    assert api.post("/api/v1/roles", json=role).status_code == 201
    email = f"narrow-{time.monotonic_ns()}@example.com"
    state = gateway.app.extensions["crm_gateway"]
    with state.database.sessions.begin() as session:
        create_user(session, email, "a-long-enough-password", ("contacts_and_tickets",))
    narrow = gateway.client(gateway.token(email))
    contact = narrow.create_contact(first_name="Grace")
    reply = narrow.get(f"/api/v1/customers/{contact['id']}/360")
    assert reply.status_code == 200, reply.text
    view = reply.json()
    narrow.assert_documented(view, "Customer360")
    assert view["forbidden"] == ["sales", "marketing", "notifications"]
    assert view["unavailable"] == [] and view["unavailable_reasons"] == {}
    assert view["sales"] is None and view["marketing"] is None and view["notifications"] is None
    assert view["contact"]["id"] == contact["id"] and view["support"]["contact_id"] == contact["id"]
    assert api.get(f"/api/v1/customers/{contact['id']}/360").json()["forbidden"] == []
