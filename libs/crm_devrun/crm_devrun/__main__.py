"""`make run`: the whole platform as supervised local processes, in the foreground.

Honours GATEWAY_PORT, CRM_DATA_DIR, AMQP_URL, CRM_ADMIN_EMAIL, CRM_ADMIN_PASSWORD and GATEWAY_JWT_SECRET.
Secrets that are not given are generated once and kept (mode 0600) under CRM_DATA_DIR, so a restart keeps
tokens and the admin login valid.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from crm_devrun.platform import PlatformConfig, start_platform


def local_secret(data_dir: Path, name: str, nbytes: int) -> tuple[str, bool]:
    """A secret kept in a private file: (value, whether it was just created)."""
    path = data_dir / "secrets" / name
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value, True


def main() -> int:
    data_dir = Path(os.environ.get("CRM_DATA_DIR") or "var").resolve()
    jwt_secret = os.environ.get("GATEWAY_JWT_SECRET") or local_secret(data_dir, "gateway-jwt-secret", 48)[0]
    admin_email = os.environ.get("CRM_ADMIN_EMAIL") or "admin@example.com"
    admin_password = os.environ.get("CRM_ADMIN_PASSWORD")
    created = False
    if not admin_password:
        admin_password, created = local_secret(data_dir, "admin-password", 18)
    config = PlatformConfig(
        data_dir=data_dir,
        amqp_url=os.environ.get("AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672/",
        jwt_secret=jwt_secret,
        admin_email=admin_email,
        admin_password=admin_password,
        gateway_port=int(os.environ.get("GATEWAY_PORT") or 8080),
    )
    print(f"Starting the CRM platform (data in {data_dir}) ...", flush=True)
    supervisor = start_platform(config, echo=True)
    url = config.gateway_url
    print(
        f"\nCRM platform is up.\n"
        f"  REST API : {url}/api/v1\n"
        f"  API docs : {url}/docs   (OpenAPI: {url}/api/v1/openapi.json)\n"
        f"  Health   : {url}/healthz  {url}/readyz\n"
        f"  Admin    : {admin_email}"
        + (
            f"  password: {admin_password}  (generated; kept in {data_dir}/secrets/admin-password)"
            if created
            else "  (password from CRM_ADMIN_PASSWORD or {data_dir}/secrets/admin-password)"
        )
        + "\nPress Ctrl-C to stop.\n",
        flush=True,
    )
    supervisor.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
