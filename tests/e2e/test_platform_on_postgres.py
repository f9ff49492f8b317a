"""The same platform with every service, and the gateway, on its own PostgreSQL database."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from crm_devrun.platform import SERVICES
from crm_devrun.probes import wait_until

from crm_platform.testing import postgres, rabbit

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_platform(tmp_path_factory: pytest.TempPathFactory, launch_platform) -> Iterator[object]:
    if not postgres.postgres_reachable():
        pytest.skip("no PostgreSQL answers at CRM_TEST_POSTGRES_URL")
    vhost = f"crm-pg-{secrets.token_hex(4)}"
    rabbit.create_vhost(vhost)
    urls = {owner: postgres.create_database(owner) for owner in (*SERVICES, "gateway")}
    running = None
    try:
        running = launch_platform(
            tmp_path_factory.mktemp("pg-platform"), rabbit.amqp_url_for_vhost(vhost), None, urls
        )
        yield running
    finally:
        if running is not None:
            running.supervisor.stop()
        for url in urls.values():
            postgres.drop_database(url)
        rabbit.delete_vhost(vhost)


def test_contact_and_welcome_round_trip_on_postgres(pg_platform) -> None:
    api = pg_platform.client()
    email = f"pg-{secrets.token_hex(4)}@example.com"
    contact = api.create_contact(first_name="Edgar", last_name="Codd", email=email)
    view = wait_until(
        lambda: (r := api.customer_360(contact["id"]).json())["notifications"]["items"] and r,
        timeout=15,
        what="the welcome notification on PostgreSQL",
    )
    assert view["contact"]["email"] == email
    assert view["unavailable"] == []
    duplicate = {"first_name": "Ted", "last_name": "Codd", "email": email.upper()}
    assert api.request("POST", "/api/v1/contacts", duplicate).status == 409
    listed = api.request("GET", "/api/v1/contacts?limit=1").json()
    assert len(listed["items"]) == 1
