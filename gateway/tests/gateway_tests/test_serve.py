"""`crm-gateway serve` for real: gunicorn master + gthread workers, configured from the environment."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select

from crm_platform.config import ConfigError
from gateway.clients import ServiceClients
from gateway.main import GatewayServer, bind_address, main
from gateway.schema import User
from gateway_tests.gunicorn_gateway import gateway_env, serving


@pytest.fixture
def served(tmp_path: Path, services) -> Iterator[tuple[str, dict[str, str], subprocess.Popen[bytes]]]:
    env = gateway_env(tmp_path, services)
    with serving(env, tmp_path / "gateway.log") as (url, process):
        yield url, env, process


def test_serve_runs_the_api_under_gunicorn_and_stops_on_sigterm(served, tmp_path: Path) -> None:
    url, env, process = served
    token = requests.post(
        f"{url}/api/v1/auth/token",
        json={"email": env["CRM_ADMIN_EMAIL"], "password": env["CRM_ADMIN_PASSWORD"]},
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    created = requests.post(
        f"{url}/api/v1/contacts",
        json={"first_name": "G", "last_name": "Unicorn", "email": f"g-{secrets.token_hex(4)}@example.com"},
        headers=headers,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    # Fresh connections spread over both workers; each opens its own channels on first use.
    for _ in range(12):
        with requests.Session() as session:
            view = session.get(
                f"{url}/api/v1/customers/{created.json()['id']}/360", headers=headers, timeout=10
            )
            assert view.status_code == 200 and view.json()["unavailable"] == []
    assert requests.get(f"{url}/readyz", timeout=10).status_code == 200
    # 413 from a real server, body unread: the response still arrives.
    too_big = requests.post(
        f"{url}/api/v1/contacts",
        data=b"x" * (2 * 1024 * 1024),
        headers=headers | {"Content-Type": "application/json"},
        timeout=10,
    )
    assert too_big.status_code == 413
    assert too_big.headers["Content-Type"] == "application/problem+json"

    engine = create_engine(env["GATEWAY_DATABASE_URL"])
    with engine.connect() as connection:  # the admin was created once, by the master
        assert connection.scalar(select(func.count()).select_from(User)) == 1
    engine.dispose()

    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    log = (tmp_path / "gateway.log").read_text()
    assert log.count("bootstrap admin created") == 1
    assert "Booting worker" in log
    assert "Control socket" not in log


def test_migrate_command_and_missing_secret(tmp_path: Path, services, monkeypatch) -> None:
    env = gateway_env(tmp_path, services)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["migrate"]) == 0
    engine = create_engine(env["GATEWAY_DATABASE_URL"])
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(User)) == 0  # migrate creates no user
    engine.dispose()

    monkeypatch.delenv("GATEWAY_JWT_SECRET")
    with pytest.raises(ConfigError) as refused:  # SystemExit: the process stops, naming the variable
        main(["serve"])
    assert "GATEWAY_JWT_SECRET" in refused.value.message


def test_gunicorn_is_configured_from_the_settings(gateway) -> None:
    from dataclasses import replace

    settings = replace(gateway.settings, host="::", port=9999, workers=3, threads=7)
    server = GatewayServer(settings)
    assert server.cfg.bind == ["[::]:9999"]
    assert (server.cfg.workers, server.cfg.threads) == (3, 7)
    assert server.cfg.worker_class_str == "gthread"
    assert server.cfg.preload_app is False  # apps, and so channels, are built in each worker
    assert server.cfg.reuse_port is True  # each worker its own listening socket: connections spread
    assert bind_address("127.0.0.1", 80) == "127.0.0.1:80"


def test_channels_open_lazily_and_never_cross_a_fork(monkeypatch) -> None:
    clients = ServiceClients({"contacts": "127.0.0.1:1"})
    assert clients._connections == {}  # nothing opened until a call needs it
    first = clients.channel("contacts")
    assert clients.channel("contacts") is first
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as seen from a forked worker
    assert clients.channel("contacts") is not first
    clients.close()
