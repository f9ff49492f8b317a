"""Starting `crm-gateway serve` (gunicorn master + workers) in a subprocess for the tests that need the
real multi-process server: a free port, an environment pointing at the in-process services, and a
context manager that waits for /healthz and stops the server afterwards."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from crm_platform.access.keys import signing_key
from crm_platform.listen_ports import free_port

START_SECONDS = 30
STOP_SECONDS = 30


def gateway_env(tmp_path: Path, services: Mapping[str, Any], **extra: str) -> dict[str, str]:
    """This process's environment without its GATEWAY_/CRM_/OTEL_ settings, plus a fresh gateway on a
    free port, its own SQLite file, a bootstrap admin and the services' addresses; `extra` wins."""
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


@contextmanager
def serving(env: Mapping[str, str], log_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m gateway.main serve` with `env`, its output in `log_path`; yields (base URL, process)
    once /healthz answers. Afterwards a server still running gets SIGTERM (a clean gunicorn shutdown,
    which some tests check the effects of), then SIGKILL if it does not stop in time."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.main", "serve"], env=dict(env), stdout=log, stderr=log
        )
        url = f"http://{env['GATEWAY_HOST']}:{env['GATEWAY_PORT']}"
        try:
            _wait_until_healthy(url, process, log_path)
            yield url, process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or workers still booting
            pass
        assert process.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, "gateway did not come up"
        time.sleep(0.1)
