"""`crm-gateway serve` for real: gunicorn master + gthread workers, configured from the environment."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, func, select

from crm_platform.access.keys import signing_key
from crm_platform.config import ConfigError
from gateway.clients import ServiceClients
from gateway.main import GatewayServer, bind_address, main
from gateway.schema import User


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gateway_env(tmp_path: Path, services: dict[str, Any], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "CRM_", "OTEL_"))}
    env |= {
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(free_port()),
        "GATEWAY_WORKERS": "2",
        "GATEWAY_THREADS": "4",
        "GATEWAY_JWT_SECRET": secrets.token_urlsafe(48),
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "CRM_DATA_DIR": str(tmp_path),
        "CRM_ADMIN_EMAIL": "root@example.com",
        "CRM_ADMIN_PASSWORD": secrets.token_urlsafe(18),
    }
    env |= {f"{name.upper()}_GRPC_ADDR": service.address for name, service in services.items()}
    # The services run in this process and trust this process's caller-context key; the gateway in its
    # own data dir must sign with that key, as a deployment gives gateway and services one key pair.
    pem, kid = signing_key()
    env |= {"CRM_CALLER_SIGNING_KEY": pem.decode(), "CRM_CALLER_SIGNING_KID": kid}
    return env | extra


@pytest.fixture
def served(tmp_path: Path, services) -> Iterator[tuple[str, dict[str, str], subprocess.Popen[bytes]]]:
    env = gateway_env(tmp_path, services)
    log = (tmp_path / "gateway.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.main", "serve"], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or workers still booting
                pass
            assert process.poll() is None, (tmp_path / "gateway.log").read_text()
            assert time.monotonic() < deadline, "gateway did not come up"
            time.sleep(0.1)
        yield url, env, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        log.close()


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
    assert bind_address("127.0.0.1", 80) == "127.0.0.1:80"


def test_channels_open_lazily_and_never_cross_a_fork(monkeypatch) -> None:
    clients = ServiceClients({"contacts": "127.0.0.1:1"})
    assert clients._connections == {}  # nothing opened until a call needs it
    first = clients.channel("contacts")
    assert clients.channel("contacts") is first
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as seen from a forked worker
    assert clients.channel("contacts") is not first
    clients.close()
