"""`crm-gateway serve|migrate`.

`serve` runs the app under gunicorn (gthread workers). Work that must happen exactly once (migrations,
the bootstrap admin) runs here in the master before any worker is forked; each worker then builds its
own app, with its own database pool, gRPC channels and tracer (`preload_app` stays off for that reason).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from crm_platform import config, telemetry
from gateway import database, metrics, users
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

GRACEFUL_TIMEOUT_SECONDS = 20
WORKER_TIMEOUT_SECONDS = 30


def bind_address(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal
    return f"{host}:{port}"


def _worker_exit(_server: Any, _worker: Any) -> None:
    telemetry.shutdown()  # flush the worker's buffered spans


def _child_exit(_server: Any, worker: Any) -> None:
    metrics.worker_exited(worker.pid)  # in the master, once per dead worker


class GatewayServer(BaseApplication):  # type: ignore[misc]
    """gunicorn configured from GatewaySettings rather than its command line."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        options: dict[str, Any] = {
            "bind": [bind_address(self.settings.host, self.settings.port)],
            "workers": self.settings.workers,
            "threads": self.settings.threads,
            "worker_class": "gthread",
            "preload_app": False,  # the app (and its channels) is built after fork, in each worker
            # Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
            # connections over them. On one shared socket the worker that wins the accept races takes
            # them: a client or proxy opening its pool at once was seen landing 32/0 or 27/5 on two
            # workers, one worker's threads then queueing while the other idled (bench/PROFILE.md).
            "reuse_port": True,
            "timeout": WORKER_TIMEOUT_SECONDS,
            "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
            "proc_name": "crm-gateway",
            "worker_exit": _worker_exit,
            "child_exit": _child_exit,
        }
        if "control_socket_disable" in self.cfg.settings:
            # Newer gunicorn opens a control socket at one fixed path per user ($HOME/.gunicorn): two
            # gateways on one machine (tests, a local platform) would fight over it, and we never use it.
            options["control_socket_disable"] = True
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from gateway.app import create_app  # imported in the worker: nothing of it exists before fork

        return create_app(self.settings, watch_channels=True)


def prepare(settings: GatewaySettings) -> None:
    """Migrations, then the bootstrap admin: once per start, before workers exist."""
    database.migrate(settings.database_url)
    db = database.open_database(settings.database_url)
    try:
        users.ensure_bootstrap_admin(db.sessions, settings.admin_email, settings.admin_password)
    finally:
        db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm-gateway", description="CRM REST gateway")
    parser.add_argument(
        "command",
        choices=["serve", "migrate"],
        help="serve: migrate, create the bootstrap admin if needed, then serve HTTP under gunicorn; "
        "migrate: apply the gateway's database migrations only",
    )
    args = parser.parse_args(argv)
    telemetry.setup_logging("gateway")
    settings = GatewaySettings.from_env()
    if args.command == "migrate":
        database.migrate(settings.database_url)
        log.info("migrations applied")
        return 0
    prepare(settings)
    log.info(
        "starting gunicorn",
        extra={
            "bind": bind_address(settings.host, settings.port),
            "workers": settings.workers,
            "threads": settings.threads,
        },
    )
    # Before any worker forks, so every worker writes its metrics where /metrics reads them all.
    metrics_dir = metrics.prepare_multiprocess(config.DATA_DIR.get())
    try:
        GatewayServer(settings).run()
    finally:
        metrics.remove_multiprocess_dir(metrics_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
