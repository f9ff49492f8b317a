"""Every environment variable the gateway reads, declared once, and the settings object built from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from crm_platform import config, db

SERVICES = ("contacts", "sales", "marketing", "support", "notifications")
MIN_ADMIN_PASSWORD_LENGTH = 12


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError("must be a TCP port (1-65535)")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be a positive number of seconds")
    return value


def _optional_password(raw: str) -> str:
    # Empty means "not set" (then no admin is bootstrapped); a set one must not be trivially guessable,
    # because it guards the first and most powerful account.
    if raw and len(raw) < MIN_ADMIN_PASSWORD_LENGTH:
        raise ValueError(f"must be at least {MIN_ADMIN_PASSWORD_LENGTH} characters long")
    return raw


HOST = config.Setting("GATEWAY_HOST", config.as_str, default="127.0.0.1", help="address the gateway binds")
PORT = config.Setting("GATEWAY_PORT", _port, default="8080", help="HTTP port of the gateway")
WORKERS = config.Setting(
    "GATEWAY_WORKERS", config.positive_int, default="2", help="gunicorn worker processes"
)
THREADS = config.Setting(
    "GATEWAY_THREADS", config.positive_int, default="16", help="request threads per gunicorn worker"
)
JWT_SECRET = config.Setting(
    "GATEWAY_JWT_SECRET",
    config.min_length(32),
    required=True,
    secret=True,
    help="HS256 key that signs access tokens (at least 32 characters)",
)
TOKEN_TTL = config.Setting(
    "GATEWAY_TOKEN_TTL_SECONDS", config.positive_int, default="3600", help="lifetime of access tokens"
)
ADMIN_EMAIL = config.Setting(
    "CRM_ADMIN_EMAIL", config.as_str, default="", help="email of the admin created when no user exists yet"
)
ADMIN_PASSWORD = config.Setting(
    "CRM_ADMIN_PASSWORD",
    _optional_password,
    default="",
    secret=True,
    help="password of the admin created when no user exists yet",
)
SERVICE_DEADLINE = config.Setting(
    "GATEWAY_SERVICE_DEADLINE_SECONDS",
    _positive_float,
    default="1.0",
    help="deadline of each service call made by customer-360 and /readyz",
)
CALL_DEADLINE = config.Setting(
    "GATEWAY_CALL_DEADLINE_SECONDS",
    _positive_float,
    default="2.0",
    help="deadline of the gRPC call behind each REST request a service serves",
)


def _extra_contracts(raw: str) -> tuple[str, ...]:
    paths = tuple(part.strip() for part in raw.split(",") if part.strip())
    for path in paths:
        if not Path(path).is_file():
            raise ValueError(f"{path} is not a file")
    return paths


def _upstreams(raw: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        name, _, address = part.partition("=")
        if not name.strip().isidentifier() or not address.strip():
            raise ValueError(f"{part!r} is not name=host:port")
        found[name.strip()] = config.host_port(address.strip())
    return found


EXTRA_CONTRACTS = config.Setting(
    "GATEWAY_EXTRA_CONTRACTS",
    _extra_contracts,
    default="",
    help="comma-separated FileDescriptorSet files of more services to serve over REST",
)
EXTRA_UPSTREAMS = config.Setting(
    "GATEWAY_EXTRA_UPSTREAMS",
    _upstreams,
    default="",
    help="name=host:port of each service the extra contracts name (crm.<name>.v1)",
)
MAX_BODY_BYTES = config.Setting(
    "GATEWAY_MAX_BODY_BYTES", config.positive_int, default=str(1024 * 1024), help="largest request body"
)
DATABASE_URL = config.database_url_setting("gateway")
GRPC_ADDRS = {service: config.grpc_addr_setting(service) for service in SERVICES}


@dataclass(frozen=True)
class GatewaySettings:
    jwt_secret: str
    database_url: str
    service_addrs: Mapping[str, str]
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    threads: int = 16
    token_ttl_seconds: int = 3600
    admin_email: str = ""
    admin_password: str = ""
    service_deadline_seconds: float = 1.0
    call_deadline_seconds: float = 2.0
    max_body_bytes: int = 1024 * 1024
    extra_contracts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.jwt_secret) < 32:
            raise config.ConfigError("GATEWAY_JWT_SECRET must be at least 32 characters long")
        missing = [s for s in SERVICES if s not in self.service_addrs]
        if missing:
            raise config.ConfigError(f"no gRPC address for {', '.join(missing)}")
        # CRM_ADMIN_EMAIL may stay configured after CRM_ADMIN_PASSWORD is removed (deploy/k8s/README.md):
        # the pair only matters while no user exists, and then a missing half is logged, not fatal.

    def __repr__(self) -> str:  # the secret must never reach a log line
        return f"GatewaySettings(host={self.host!r}, port={self.port}, database_url=<hidden>)"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        """Settings from `environ` (default: the process environment); the embedded SQLite default
        lives under CRM_DATA_DIR of the process environment."""
        url = DATABASE_URL.get(environ)
        return cls(
            jwt_secret=JWT_SECRET.get(environ),
            # The empty default means the embedded SQLite file, resolved by the chassis.
            database_url=db.normalise_url(url) if url else db.database_url("gateway"),
            service_addrs={
                **{service: setting.get(environ) for service, setting in GRPC_ADDRS.items()},
                **EXTRA_UPSTREAMS.get(environ),
            },
            host=HOST.get(environ),
            port=PORT.get(environ),
            workers=WORKERS.get(environ),
            threads=THREADS.get(environ),
            token_ttl_seconds=TOKEN_TTL.get(environ),
            admin_email=ADMIN_EMAIL.get(environ).strip(),
            admin_password=ADMIN_PASSWORD.get(environ),
            service_deadline_seconds=SERVICE_DEADLINE.get(environ),
            call_deadline_seconds=CALL_DEADLINE.get(environ),
            extra_contracts=EXTRA_CONTRACTS.get(environ),
            max_body_bytes=MAX_BODY_BYTES.get(environ),
        )
