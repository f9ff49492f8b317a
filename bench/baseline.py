"""The baseline: five trivial gRPC servers (bench/trivial_grpc.py, one process each) behind a bare Flask
customer-360 (bench/bare_app.py) under gunicorn with the gateway's worker and thread settings.

It answers the same URL as the gateway, `GET /api/v1/customers/{id}/360`, so the same load runs against
both and the ratio of the two figures is the cost of the platform's own code (auth, tracing, validation,
rendering, real servicers with their databases) over the unavoidable cost of Flask + gunicorn + five
parallel gRPC calls on this machine.

`python bench/baseline.py` starts it and waits (for trying it by hand); `start_baseline()` is the API.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from crm_devrun.platform import SERVICES
from crm_devrun.probes import grpc_serving, http_ok
from crm_devrun.supervisor import ProcessSpec, Supervisor

from crm_platform.listen_ports import free_port

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Baseline:
    url: str
    supervisor: Supervisor


def baseline_specs(
    http_port: int, workers: int, threads: int, answers_dir: Path | None = None
) -> list[ProcessSpec]:
    addresses = {service: f"127.0.0.1:{free_port()}" for service in SERVICES}
    answers = [f"--answers={answers_dir}"] if answers_dir is not None else []
    specs = [
        ProcessSpec(
            f"trivial-{service}",
            [sys.executable, str(HERE / "trivial_grpc.py"), service, addr, *answers],
            ready=lambda addr=addr: grpc_serving(addr),
        )
        for service, addr in addresses.items()
    ]
    specs.append(
        ProcessSpec(
            "bare-app",
            [
                sys.executable,
                str(HERE / "bare_app.py"),
                f"--port={http_port}",
                f"--workers={workers}",
                f"--threads={threads}",
                *(f"{service}={addr}" for service, addr in addresses.items()),
            ],
            ready=lambda: http_ok(f"http://127.0.0.1:{http_port}/healthz"),
        )
    )
    return specs


@contextmanager
def start_baseline(
    log_dir: Path,
    *,
    workers: int,
    threads: int,
    answers_dir: Path | None = None,
    ready_timeout: float = 60,
) -> Iterator[Baseline]:
    """The running baseline; every process it started is stopped on leaving, even on error.
    `answers_dir`: the platform's recorded answers for the trivial servers (bench/trivial_grpc.py)."""
    port = free_port()
    specs = baseline_specs(port, workers, threads, answers_dir)
    # No restarts: a crashed baseline process must fail the run, not be papered over.
    supervisor = Supervisor(specs, log_dir=log_dir, restart=False).start()
    try:
        supervisor.wait_ready(ready_timeout)
        yield Baseline(f"http://127.0.0.1:{port}", supervisor)
    finally:
        supervisor.stop()


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp,
        start_baseline(Path(tmp), workers=2, threads=16) as baseline,
    ):
        print(f"baseline serving at {baseline.url}/api/v1/customers/<any id>/360 (Ctrl-C stops)")
        with suppress(KeyboardInterrupt):
            baseline.supervisor.run_forever()


if __name__ == "__main__":
    main()
