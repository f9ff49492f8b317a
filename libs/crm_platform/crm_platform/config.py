"""Configuration from environment variables, declared once and checked at start.

Every variable a process reads is declared as a `Setting`; declaring it also registers it, so the
deployment manifests can be cross-checked against what the code really reads (see tests/deploy).
A missing required value or one that does not parse stops the process with a message naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_REGISTRY: dict[str, Setting[Any]] = {}


class ConfigError(SystemExit):
    """Raised when a setting is missing or invalid; uncaught, it ends the process with status 1 and the
    message on stderr (SystemExit's behaviour for a message), before anything has started."""

    def __init__(self, message: str) -> None:
        super().__init__(f"configuration error: {message}")
        self.message = message


@dataclass(frozen=True)
class Setting(Generic[T]):
    name: str
    parse: Callable[[str], T]
    default: str | None = None
    help: str = ""
    required: bool = False
    secret: bool = False

    def __post_init__(self) -> None:
        _REGISTRY[self.name] = self

    def get(self, environ: Mapping[str, str] | None = None) -> T:
        env = os.environ if environ is None else environ
        raw = env.get(self.name)
        if raw is None or raw == "":
            if self.default is None:
                if self.required:
                    raise ConfigError(f"{self.name} is required but not set ({self.help})")
                raw = ""
            else:
                raw = self.default
        try:
            return self.parse(raw)
        except (ValueError, TypeError) as exc:
            shown = "<hidden>" if self.secret else repr(raw)
            raise ConfigError(f"{self.name}={shown} is invalid: {exc}") from None


def registry() -> dict[str, Setting[Any]]:
    """Every setting declared by the modules imported so far, by variable name."""
    return dict(_REGISTRY)


# --- parsers -------------------------------------------------------------------------------------


def as_str(raw: str) -> str:
    return raw


def as_int(raw: str) -> int:
    return int(raw)


def positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be 0 or a positive integer")
    return value


def as_float(raw: str) -> float:
    return float(raw)


def positive_seconds(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be a positive number of seconds")
    return value


def as_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be one of true/false/1/0/yes/no/on/off")


def host_port(raw: str) -> str:
    host, sep, port = raw.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must look like HOST:PORT")
    return raw


def amqp_url(raw: str) -> str:
    if not raw.startswith(("amqp://", "amqps://")):
        raise ValueError("must be an amqp:// or amqps:// URL")
    return raw


def min_length(n: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if len(raw) < n:
            raise ValueError(f"must be at least {n} characters long")
        return raw

    return parse


def float_list(raw: str) -> list[float]:
    values = [float(part) for part in raw.split(",") if part.strip()]
    if not values or any(v < 0 for v in values):
        raise ValueError("must be a comma-separated list of non-negative numbers")
    return values


# --- settings every process shares -----------------------------------------------------------------

DATA_DIR = Setting(
    "CRM_DATA_DIR", Path, default="var", help="where embedded SQLite databases and local state live"
)
AMQP_URL = Setting(
    "AMQP_URL", amqp_url, default="amqp://guest:guest@127.0.0.1:5672/", help="RabbitMQ URL", secret=True
)
LOG_LEVEL = Setting("CRM_LOG_LEVEL", as_str, default="INFO", help="logging level")

# Default gRPC ports, one per service. `<SERVICE>_GRPC_LISTEN` is where a server binds,
# `<SERVICE>_GRPC_ADDR` is where its clients find it.
GRPC_PORTS: dict[str, int] = {
    "contacts": 50051,
    "sales": 50052,
    "marketing": 50053,
    "support": 50054,
    "notifications": 50055,
}


def grpc_listen_setting(service: str) -> Setting[str]:
    return Setting(
        f"{service.upper()}_GRPC_LISTEN",
        host_port,
        default=f"127.0.0.1:{GRPC_PORTS[service]}",
        help=f"address the {service} gRPC server binds",
    )


def grpc_addr_setting(service: str) -> Setting[str]:
    return Setting(
        f"{service.upper()}_GRPC_ADDR",
        host_port,
        default=f"127.0.0.1:{GRPC_PORTS[service]}",
        help=f"address where clients reach the {service} gRPC server",
    )


def database_url_setting(service: str) -> Setting[str]:
    """`<SERVICE>_DATABASE_URL`; empty means a SQLite file `<CRM_DATA_DIR>/<service>.db`."""
    return Setting(
        f"{service.upper()}_DATABASE_URL",
        as_str,
        default="",
        help=f"SQLAlchemy URL of the {service} database (default: SQLite under CRM_DATA_DIR)",
        secret=True,
    )


# --- metrics ---------------------------------------------------------------------------------------

METRICS_HOST = Setting(
    "CRM_METRICS_HOST",
    as_str,
    default="127.0.0.1",
    help="address the metrics endpoint of a service process binds (images set 0.0.0.0 for the scraper)",
)

# Default metrics ports: `serve` and `worker` of one service run side by side on one machine under
# `make run`, so each process kind has its own; in Kubernetes every pod has its own network namespace and
# the scrape annotations name these same defaults.
METRICS_PORTS: dict[str, int] = {service: 9400 + i for i, service in enumerate(GRPC_PORTS, start=1)}
WORKER_METRICS_PORT_OFFSET = 10


def port_or_zero(raw: str) -> int:
    value = int(raw)
    if not 0 <= value < 65536:
        raise ValueError("must be a TCP port (1-65535) or 0 to disable")
    return value


def metrics_port_setting(service: str, process: str = "serve") -> Setting[int]:
    """`<SERVICE>_METRICS_PORT` (the gRPC server) or `<SERVICE>_WORKER_METRICS_PORT` (the worker)."""
    if process not in ("serve", "worker"):
        raise ValueError(f"unknown process kind {process!r}")
    worker = process == "worker"
    default = METRICS_PORTS[service] + (WORKER_METRICS_PORT_OFFSET if worker else 0)
    return Setting(
        f"{service.upper()}_{'WORKER_' if worker else ''}METRICS_PORT",
        port_or_zero,
        default=str(default),
        help=f"port of the Prometheus metrics endpoint of the {service} {process} process (0: none)",
    )
