"""Identity under `crm-gateway serve` (gunicorn, 2 workers): a deactivation or a key revocation made
through one worker stops the credential on every worker within 5 seconds, and failed logins spread over
workers are throttled together (the throttle lives in the database)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from gateway_tests.gunicorn_gateway import gateway_env, serving


@pytest.fixture(scope="module")
def gunicorn_gateway(
    tmp_path_factory: pytest.TempPathFactory, services
) -> Iterator[tuple[str, dict[str, str]]]:
    tmp_path = tmp_path_factory.mktemp("gunicorn-identity")
    env = gateway_env(tmp_path, services, GATEWAY_LOGIN_ACCOUNT_FREE_FAILURES="4")
    with serving(env, tmp_path / "gateway.log") as (url, _process):
        yield url, env


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
