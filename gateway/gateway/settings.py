"""Every environment variable the gateway reads, declared once, and the settings object built from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from crm_platform import config, db
from crm_platform.access import keys as caller_keys

# The gateway signs the caller context of every service call (gateway.identity.caller_context); listed
# here so the gateway's settings include its key, read when it first signs.
CALLER_SIGNING_SETTINGS = (caller_keys.SIGNING_KEY, caller_keys.SIGNING_KID)

SERVICES = ("contacts", "sales", "marketing", "support", "notifications")
MIN_ADMIN_PASSWORD_LENGTH = 12
MIN_SECRET_LENGTH = 32


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError("must be a TCP port (1-65535)")
    return value


def _optional_password(raw: str) -> str:
    # Empty means "not set" (then no admin is bootstrapped); a set one must not be trivially guessable,
    # because it guards the first and most powerful account.
    if raw and len(raw) < MIN_ADMIN_PASSWORD_LENGTH:
        raise ValueError(f"must be at least {MIN_ADMIN_PASSWORD_LENGTH} characters long")
    return raw


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _kid(raw: str) -> str:
    if not raw or len(raw) > 64 or not raw.isprintable():
        raise ValueError("must be 1-64 printable characters")
    return raw


def _optional_secret(raw: str) -> str:
    if raw and len(raw) < MIN_SECRET_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters long")
    return raw


def _previous_keys(raw: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        kid, _, secret = part.partition("=")
        _kid(kid.strip())
        if len(secret.strip()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"entries are kid=secret with secrets of at least {MIN_SECRET_LENGTH} characters"
            )
        found[kid.strip()] = secret.strip()
    return found


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
JWT_KID = config.Setting(
    "GATEWAY_JWT_KID",
    _kid,
    default="k1",
    help="id (JWT `kid`) of GATEWAY_JWT_SECRET; rotate by moving the old pair to GATEWAY_JWT_PREVIOUS_KEYS",
)
JWT_PREVIOUS_KEYS = config.Setting(
    "GATEWAY_JWT_PREVIOUS_KEYS",
    _previous_keys,
    default="",
    secret=True,
    help="`kid=secret` pairs, comma-separated: keys still accepted (not used to sign) during a rotation",
)
TOKEN_AUDIENCE = config.Setting(
    "GATEWAY_TOKEN_AUDIENCE", _kid, default="crm-api", help="`aud` of access tokens (checked on each request)"
)
TOKEN_TTL = config.Setting(
    "GATEWAY_TOKEN_TTL_SECONDS",
    config.positive_int,
    default="900",
    help="lifetime of access tokens (short: refresh tokens renew them)",
)
REFRESH_TTL = config.Setting(
    "GATEWAY_REFRESH_TTL_SECONDS",
    config.positive_int,
    default=str(14 * 24 * 3600),
    help="lifetime of a refresh token family from login (each use rotates the token, not the deadline)",
)
API_KEY_PEPPER = config.Setting(
    "GATEWAY_API_KEY_PEPPER",
    _optional_secret,
    default="",
    secret=True,
    help="server-side key of the HMAC that hashes API keys and refresh tokens (at least 32 characters); "
    "empty: derived from GATEWAY_JWT_SECRET (set it in production, so rotating the JWT key keeps API keys)",
)
IDENTITY_CACHE_SECONDS = config.Setting(
    "GATEWAY_IDENTITY_CACHE_SECONDS",
    config.positive_seconds,
    default="2.0",
    help="how long a worker trusts its copy of a user's or API key's state (deactivation, revocation and "
    "role changes take effect within it)",
)
MAX_CONCURRENT_HASHES = config.Setting(
    "GATEWAY_MAX_CONCURRENT_HASHES",
    config.positive_int,
    default="4",
    help="password hashes (argon2id, GATEWAY_ARGON2_MEMORY_KIB each) computed at once per worker",
)
ARGON2_MEMORY_KIB = config.Setting(
    "GATEWAY_ARGON2_MEMORY_KIB",
    config.positive_int,
    default="19456",
    help="argon2id memory cost in KiB (OWASP: 19456 with time cost 2, or 47104 with time cost 1)",
)
ARGON2_TIME_COST = config.Setting(
    "GATEWAY_ARGON2_TIME_COST", config.positive_int, default="2", help="argon2id passes over the memory"
)
LOGIN_ACCOUNT_FREE_FAILURES = config.Setting(
    "GATEWAY_LOGIN_ACCOUNT_FREE_FAILURES",
    config.positive_int,
    default="5",
    help="failed logins for one email within the window before each further attempt must wait",
)
LOGIN_ADDRESS_FREE_FAILURES = config.Setting(
    "GATEWAY_LOGIN_ADDRESS_FREE_FAILURES",
    config.positive_int,
    default="30",
    help="failed logins from one client address within the window before each further attempt must wait",
)
TRUSTED_PROXY_HOPS = config.Setting(
    "GATEWAY_TRUSTED_PROXY_HOPS",
    _non_negative_int,
    default="0",
    help="proxies in front of the gateway that append to X-Forwarded-For (0: use the peer address); "
    "the login throttle and the audit trail key on the client address this yields",
)
LOGIN_WINDOW_SECONDS = config.Setting(
    "GATEWAY_LOGIN_WINDOW_SECONDS",
    config.positive_int,
    default="900",
    help="failed logins older than this are forgotten",
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
    config.positive_seconds,
    default="1.0",
    help="deadline of each service call made by customer-360 and /readyz",
)
CALL_DEADLINE = config.Setting(
    "GATEWAY_CALL_DEADLINE_SECONDS",
    config.positive_seconds,
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
    token_ttl_seconds: int = 900
    jwt_kid: str = "k1"
    jwt_previous_keys: Mapping[str, str] = field(default_factory=dict)
    token_audience: str = "crm-api"  # noqa: S105 - an audience name, not a secret
    refresh_ttl_seconds: int = 14 * 24 * 3600
    api_key_pepper: str = ""
    identity_cache_seconds: float = 2.0
    max_concurrent_hashes: int = 4
    argon2_memory_kib: int = 19456
    argon2_time_cost: int = 2
    login_account_free_failures: int = 5
    login_address_free_failures: int = 30
    login_window_seconds: int = 900
    trusted_proxy_hops: int = 0
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
            jwt_kid=JWT_KID.get(environ),
            jwt_previous_keys=JWT_PREVIOUS_KEYS.get(environ),
            token_audience=TOKEN_AUDIENCE.get(environ),
            refresh_ttl_seconds=REFRESH_TTL.get(environ),
            api_key_pepper=API_KEY_PEPPER.get(environ),
            identity_cache_seconds=IDENTITY_CACHE_SECONDS.get(environ),
            max_concurrent_hashes=MAX_CONCURRENT_HASHES.get(environ),
            argon2_memory_kib=ARGON2_MEMORY_KIB.get(environ),
            argon2_time_cost=ARGON2_TIME_COST.get(environ),
            login_account_free_failures=LOGIN_ACCOUNT_FREE_FAILURES.get(environ),
            login_address_free_failures=LOGIN_ADDRESS_FREE_FAILURES.get(environ),
            login_window_seconds=LOGIN_WINDOW_SECONDS.get(environ),
            trusted_proxy_hops=TRUSTED_PROXY_HOPS.get(environ),
            admin_email=ADMIN_EMAIL.get(environ).strip(),
            admin_password=ADMIN_PASSWORD.get(environ),
            service_deadline_seconds=SERVICE_DEADLINE.get(environ),
            call_deadline_seconds=CALL_DEADLINE.get(environ),
            extra_contracts=EXTRA_CONTRACTS.get(environ),
            max_body_bytes=MAX_BODY_BYTES.get(environ),
        )
