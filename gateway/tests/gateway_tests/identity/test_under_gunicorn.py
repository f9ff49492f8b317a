"""Identity under `crm-gateway serve` (gunicorn, 2 workers): a deactivation or a key revocation made
through one worker stops the credential on every worker within 5 seconds, and failed logins spread over
workers are throttled together (the throttle lives in the database)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from crm_platform.access.keys import signing_key


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def gunicorn_gateway(
    tmp_path_factory: pytest.TempPathFactory, services
) -> Iterator[tuple[str, dict[str, str]]]:
    tmp_path = tmp_path_factory.mktemp("gunicorn-identity")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "CRM_", "OTEL_"))}
    env |= {
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(_free_port()),
        "GATEWAY_WORKERS": "2",
        "GATEWAY_THREADS": "4",
        "GATEWAY_JWT_SECRET": secrets.token_urlsafe(48),
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "GATEWAY_LOGIN_ACCOUNT_FREE_FAILURES": "4",
        "CRM_DATA_DIR": str(tmp_path),
        "CRM_ADMIN_EMAIL": "root@example.com",
        "CRM_ADMIN_PASSWORD": secrets.token_urlsafe(18),
    } | {f"{name.upper()}_GRPC_ADDR": service.address for name, service in services.items()}
    pem, kid = signing_key()  # the in-process services trust this process's caller-context key
    env |= {"CRM_CALLER_SIGNING_KEY": pem.decode(), "CRM_CALLER_SIGNING_KID": kid}
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
            except requests.RequestException:
                pass
            assert process.poll() is None, (tmp_path / "gateway.log").read_text()
            assert time.monotonic() < deadline, "gateway did not come up"
            time.sleep(0.1)
        yield url, env
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def _get(url: str, headers: dict[str, str]) -> int:
    # A new connection each time, so requests land on either worker.
    return requests.get(f"{url}/api/v1/me", headers=headers | {"Connection": "close"}, timeout=10).status_code


def _stops_within(url: str, headers: dict[str, str], started: float) -> float:
    while True:
        codes = [_get(url, headers) for _ in range(6)]
        if set(codes) == {401}:
            return time.monotonic() - started
        assert time.monotonic() - started < 5, codes
        time.sleep(0.1)


def test_deactivation_and_revocation_reach_every_worker_within_5_seconds(gunicorn_gateway) -> None:
    url, env = gunicorn_gateway
    login = requests.post(
        f"{url}/api/v1/auth/token",
        json={"email": env["CRM_ADMIN_EMAIL"], "password": env["CRM_ADMIN_PASSWORD"]},
        timeout=30,
    )
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    created = requests.post(
        f"{url}/api/v1/users",
        headers=admin,
        timeout=30,
        json={"email": "rep@example.com", "password": "a-long-enough-password", "roles": ["sales_rep"]},
    )
    assert created.status_code == 201, created.text
    rep_login = requests.post(
        f"{url}/api/v1/auth/token",
        timeout=30,
        json={"email": "rep@example.com", "password": "a-long-enough-password"},
    )
    rep = {"Authorization": f"Bearer {rep_login.json()['access_token']}"}
    key = requests.post(
        f"{url}/api/v1/api-keys",
        headers=admin,
        timeout=30,
        json={"name": "sync", "scopes": ["contacts:read"]},
    ).json()
    integration = {"X-API-Key": key["key"]}
    assert {_get(url, rep) for _ in range(6)} == {200} and {_get(url, integration) for _ in range(6)} == {200}

    started = time.monotonic()
    assert (
        requests.post(
            f"{url}/api/v1/users/{created.json()['id']}:deactivate", headers=admin, timeout=30
        ).status_code
        == 200
    )
    user_after = _stops_within(url, rep, started)
    started = time.monotonic()
    assert (
        requests.post(f"{url}/api/v1/api-keys/{key['id']}:revoke", headers=admin, timeout=30).status_code
        == 200
    )
    key_after = _stops_within(url, integration, started)
    print(
        f"\nunder gunicorn (2 workers): deactivation effective on every worker after {user_after:.2f} s, "
        f"key revocation after {key_after:.2f} s"
    )


def test_failed_logins_spread_over_workers_are_throttled_together(gunicorn_gateway) -> None:
    url, env = gunicorn_gateway
    codes = []
    for _ in range(6):
        reply = requests.post(
            f"{url}/api/v1/auth/token",
            timeout=30,
            headers={"Connection": "close"},
            json={"email": env["CRM_ADMIN_EMAIL"], "password": "wrong"},
        )
        codes.append(reply.status_code)
    assert codes[:4] == [401] * 4 and codes[4] == 429, codes
    assert int(reply.headers["Retry-After"]) >= 1
