"""The local platform: which processes make it up and how each is configured."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from crm_devrun.probes import grpc_serving, http_ok, queues_exist
from crm_devrun.states import Observer
from crm_devrun.supervisor import ProcessSpec, Supervisor
from crm_platform.config import GRPC_PORTS
from crm_platform.listen_ports import free_ports
from crm_platform.service import heartbeat_path

SERVICES = ("contacts", "sales", "marketing", "support", "notifications")


@dataclass
class PlatformConfig:
    data_dir: Path
    amqp_url: str
    jwt_secret: str
    admin_email: str
    admin_password: str
    gateway_port: int = 8080
    grpc_ports: Mapping[str, int] = field(default_factory=lambda: dict(GRPC_PORTS))
    # "<service>" and "<service>-worker" -> port of its Prometheus endpoint; missing: the setting's default.
    metrics_ports: Mapping[str, int] = field(default_factory=dict)
    # service (or "gateway") -> SQLAlchemy URL; a missing entry means the embedded SQLite default.
    database_urls: Mapping[str, str] = field(default_factory=dict)
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def with_free_ports(cls, **kwargs: object) -> PlatformConfig:
        """For tests and benchmarks that run beside another platform."""
        metrics = [f"{s}{kind}" for s in SERVICES for kind in ("", "-worker")]
        ports = iter(free_ports(1 + len(SERVICES) + len(metrics)))
        return cls(  # type: ignore[arg-type]
            gateway_port=next(ports),
            grpc_ports={s: next(ports) for s in SERVICES},
            metrics_ports={name: next(ports) for name in metrics},
            **kwargs,
        )

    def grpc_addr(self, service: str) -> str:
        return f"127.0.0.1:{self.grpc_ports[service]}"

    @property
    def log_dir(self) -> Path:
        """One log file per process (crm_devrun.paths.log_file)."""
        return self.data_dir / "logs"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def env(self) -> dict[str, str]:
        env = {
            "CRM_DATA_DIR": str(self.data_dir),
            "AMQP_URL": self.amqp_url,
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(self.gateway_port),
            "GATEWAY_JWT_SECRET": self.jwt_secret,
            "CRM_ADMIN_EMAIL": self.admin_email,
            "CRM_ADMIN_PASSWORD": self.admin_password,
            "PYTHONUNBUFFERED": "1",
        }
        for service in SERVICES:
            env[f"{service.upper()}_GRPC_LISTEN"] = self.grpc_addr(service)
            env[f"{service.upper()}_GRPC_ADDR"] = self.grpc_addr(service)
            for kind, prefix in (("", ""), ("-worker", "WORKER_")):
                if f"{service}{kind}" in self.metrics_ports:
                    env[f"{service.upper()}_{prefix}METRICS_PORT"] = str(
                        self.metrics_ports[f"{service}{kind}"]
                    )
        for owner, url in self.database_urls.items():
            env[f"{owner.upper()}_DATABASE_URL"] = url
        env.update(self.extra_env)
        return env


def worker_queues(service: str) -> list[str]:
    """The queues a service's worker declares (one per subscription), read from its definition."""
    definition = importlib.import_module(f"{service}.main").DEFINITION
    return list(definition.queues)


def worker_ready(config: PlatformConfig, service: str) -> Callable[[], bool]:
    """A worker is ready once it beats (its consumer loop runs) and its queues exist (events published
    from then on are kept for it). The heartbeat file outlives a run: `clear_heartbeat` removes it first."""
    queues = worker_queues(service)
    beat = heartbeat_path(service, config.data_dir)

    def ready() -> bool:
        return beat.exists() and (not queues or queues_exist(config.amqp_url, queues))

    return ready


def clear_heartbeat(config: PlatformConfig, service: str) -> Callable[[], None]:
    beat = heartbeat_path(service, config.data_dir)
    return lambda: beat.unlink(missing_ok=True)


def process_specs(config: PlatformConfig) -> list[ProcessSpec]:
    specs: list[ProcessSpec] = []
    for service in SERVICES:
        addr = config.grpc_addr(service)
        specs.append(
            ProcessSpec(
                service,
                [sys.executable, "-m", f"{service}.main", "serve"],
                ready=lambda addr=addr: grpc_serving(addr),
            )
        )
        specs.append(
            ProcessSpec(
                f"{service}-worker",
                [sys.executable, "-m", f"{service}.main", "worker"],
                ready=worker_ready(config, service),
                prepare=clear_heartbeat(config, service),
            )
        )
    specs.append(
        ProcessSpec(
            "gateway",
            [sys.executable, "-m", "gateway.main", "serve"],
            ready=lambda: http_ok(f"{config.gateway_url}/healthz"),
        )
    )
    return specs


def start_platform(
    config: PlatformConfig, *, observer: Observer | None = None, ready_timeout: float = 90.0
) -> Supervisor:
    """Starts every process and returns once all are ready; `observer` hears each state change and each
    line the processes print (by default: state changes logged, output only in `config.log_dir`)."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(
        process_specs(config), log_dir=config.log_dir, base_env=_base_env(config), observer=observer
    )
    try:
        supervisor.start()
        supervisor.wait_ready(ready_timeout)
    except BaseException:
        supervisor.stop()
        raise
    return supervisor


def _base_env(config: PlatformConfig) -> dict[str, str]:
    return {**os.environ, **config.env()}
