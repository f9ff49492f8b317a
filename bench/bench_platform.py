"""The whole platform on a throw-away backend, for benchmarks that measure it end to end (bench_import,
bench_export): SQLite under a temporary data directory, or fresh PostgreSQL databases (one per service
and the gateway), each with a RabbitMQ vhost of its own; everything is removed afterwards.

    with throwaway_backend("sqlite", "import", run) as backend:   # None: PostgreSQL does not answer
        ...                                                      # seed backend.contacts_url first if needed
        with backend.platform() as running:
            running.token, running.config.gateway_url, running.supervisor["contacts"].process.pid
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from crm_devrun.platform import SERVICES, PlatformConfig, start_platform

from crm_platform.testing import rabbit
from crm_platform.testing.postgres import create_database, drop_database, postgres_reachable


@dataclass
class Running:
    config: PlatformConfig
    supervisor: Any
    token: str  # the bench admin's access token


@dataclass
class Backend:
    kind: str  # sqlite or postgresql
    data_dir: Path
    databases: dict[str, str]  # service -> URL; empty on SQLite (each service's file in data_dir)
    amqp_url: str

    @property
    def name(self) -> str:
        return "PostgreSQL" if self.kind == "postgresql" else "SQLite"

    @property
    def contacts_url(self) -> str:
        return self.databases.get("contacts") or f"sqlite:///{self.data_dir / 'contacts.db'}"

    @contextmanager
    def platform(self, ready_timeout: float = 300) -> Iterator[Running]:
        """Every process as for `make run`, ready, with a signed-in admin; stopped on leaving."""
        password = secrets.token_urlsafe(24)
        config = PlatformConfig.with_free_ports(
            data_dir=self.data_dir,
            amqp_url=self.amqp_url,
            jwt_secret=secrets.token_urlsafe(48),
            admin_email="bench-admin@example.com",
            admin_password=password,
            database_urls=self.databases,
        )
        supervisor = start_platform(config, ready_timeout=ready_timeout)
        try:
            token = requests.post(
                f"{config.gateway_url}/api/v1/auth/token",
                json={"email": config.admin_email, "password": password},
                timeout=30,
            ).json()["access_token"]
            yield Running(config, supervisor, token)
        finally:
            supervisor.stop()


@contextmanager
def throwaway_backend(kind: str, label: str, run: str) -> Iterator[Backend | None]:
    """A fresh backend of `kind` (sqlite, postgresql) named after the bench (`label`) and `run`; None,
    with the reason printed, when PostgreSQL does not answer."""
    databases: dict[str, str] = {}
    if kind == "postgresql":
        if not postgres_reachable():
            print("PostgreSQL: skipped (no PostgreSQL answers)", flush=True)
            yield None
            return
        databases = {s: create_database(f"bench_{label}_{s}_{run}") for s in (*SERVICES, "gateway")}
    vhost = f"crm-bench-{label}-{kind}-{run}"
    rabbit.create_vhost(vhost)
    try:
        with tempfile.TemporaryDirectory(prefix=f"bench-{label}-") as data_dir:
            yield Backend(kind, Path(data_dir), databases, rabbit.amqp_url_for_vhost(vhost))
    finally:
        rabbit.delete_vhost(vhost)
        for url in databases.values():
            drop_database(url)
