"""/healthz says the process is alive; /readyz says whether the database and every service answer."""

from __future__ import annotations

import time


def test_healthz_needs_nothing(anonymous) -> None:
    reply = anonymous.get("/healthz")
    assert reply.status_code == 200 and reply.json() == {"status": "ok"}


def test_readyz_is_200_when_everything_answers(anonymous) -> None:
    reply = anonymous.get("/readyz")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "ready"
    assert body["checks"] == dict.fromkeys(
        ("database", "contacts", "sales", "marketing", "support", "notifications"), "ok"
    )


def test_readyz_is_503_naming_the_service_that_is_down(service_factory, own_gateway) -> None:
    marketing = service_factory("marketing")
    running = own_gateway({"marketing": marketing.address})
    client = running.client(token="")
    assert client.get("/readyz").status_code == 200
    marketing.stop()
    started = time.monotonic()
    reply = client.get("/readyz")
    elapsed = time.monotonic() - started
    problem = client.assert_problem(reply, 503)
    assert "marketing" in problem["detail"]
    assert problem["unavailable"] == ["marketing"]
    assert problem["checks"]["contacts"] == "ok"
    assert elapsed < running.settings.service_deadline_seconds + 0.5


def test_readyz_is_503_when_the_database_is_gone(own_gateway, tmp_path) -> None:
    running = own_gateway()
    state = running.app.extensions["crm_gateway"]
    state.database.engine.dispose()
    # Point the pool at a directory that cannot hold a database file.
    from gateway.database import open_database

    broken = open_database(f"sqlite:///{tmp_path / 'missing-dir' / 'gateway.db'}")
    object.__setattr__(state, "database", broken)
    problem = running.client(token="").assert_problem(running.client(token="").get("/readyz"), 503)
    assert problem["unavailable"] == ["database"]


def test_readyz_scope_self_ignores_services_but_not_the_database(service_factory, own_gateway) -> None:
    marketing = service_factory("marketing")
    running = own_gateway({"marketing": marketing.address})
    client = running.client(token="")
    marketing.stop()
    reply = client.get("/readyz?scope=self")
    assert reply.status_code == 200, reply.text
    assert reply.json()["checks"] == {"database": "ok"}
    client.assert_problem(client.get("/readyz?scope=everything"), 400)
