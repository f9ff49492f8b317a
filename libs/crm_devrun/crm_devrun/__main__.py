"""`make run`: the whole platform as supervised local processes, in the foreground.

Honours GATEWAY_PORT, CRM_DATA_DIR, AMQP_URL, CRM_ADMIN_EMAIL, CRM_ADMIN_PASSWORD, GATEWAY_JWT_SECRET and
LOG_FORMAT (text: short lines, children's logs in CRM_DATA_DIR/logs; json: every line JSON on stdout).
Secrets that are not given are generated once and kept (mode 0600) under CRM_DATA_DIR, so a restart keeps
tokens and the admin login valid.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

from crm_devrun.banner import AdminLogin, Banner, PasswordSource, starting_line
from crm_devrun.console import LOG_FORMAT, Console, make_console
from crm_devrun.local_secrets import local_secret, secret_path
from crm_devrun.paths import log_file, shown
from crm_devrun.platform import PlatformConfig, process_specs, start_platform
from crm_devrun.supervisor import NotReadyError, wait_for_stop_signal

READY_TIMEOUT_SECONDS = 90.0
TAIL_LINES = 10


def admin_login(data_dir: Path) -> AdminLogin:
    email = os.environ.get("CRM_ADMIN_EMAIL") or "admin@example.com"
    path = secret_path(data_dir, "admin-password")
    password = os.environ.get("CRM_ADMIN_PASSWORD")
    if password:
        return AdminLogin(email, password, PasswordSource.ENV, path)
    password, created = local_secret(data_dir, "admin-password", 18)
    return AdminLogin(email, password, PasswordSource.GENERATED if created else PasswordSource.FILE, path)


def platform_config(data_dir: Path, admin: AdminLogin) -> PlatformConfig:
    jwt_secret = os.environ.get("GATEWAY_JWT_SECRET") or local_secret(data_dir, "gateway-jwt-secret", 48)[0]
    return PlatformConfig(
        data_dir=data_dir,
        amqp_url=os.environ.get("AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672/",
        jwt_secret=jwt_secret,
        admin_email=admin.email,
        admin_password=admin.password,
        gateway_port=int(os.environ.get("GATEWAY_PORT") or 8080),
    )


def main() -> int:
    fmt = LOG_FORMAT.get()
    data_dir = Path(os.environ.get("CRM_DATA_DIR") or "var").resolve()
    admin = admin_login(data_dir)
    config = platform_config(data_dir, admin)
    console = make_console(fmt, log_dir=config.log_dir)
    # Until the signal handlers of the foreground wait are in place, SIGTERM must unwind like Ctrl-C does:
    # its default would end only us, and the children (in sessions of their own) would live on.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    console.note(
        starting_line(data_dir, config.log_dir, len(process_specs(config))),
        data_dir=str(data_dir),
        log_dir=str(config.log_dir),
    )
    began = time.monotonic()
    try:
        supervisor = start_platform(config, observer=console, ready_timeout=READY_TIMEOUT_SECONDS)
    except KeyboardInterrupt:
        console.note("Stopped before the platform was up.")
        return 130
    except NotReadyError as exc:
        report_not_ready(console, config, exc.names)
        return 1
    console.banner(Banner(config.gateway_url, admin, data_dir, config.log_dir, time.monotonic() - began))
    wait_for_stop_signal()
    console.note("Stopping the platform ...")
    supervisor.stop()
    console.note("All processes stopped.")
    return 0


def report_not_ready(console: Console, config: PlatformConfig, names: list[str]) -> None:
    """Which processes did not come up, and the end of their logs: usually enough to see why."""
    tails: list[str] = []
    for name in names:
        path = log_file(config.log_dir, name)
        try:
            tail = path.read_text(errors="replace").splitlines()[-TAIL_LINES:]
        except FileNotFoundError:
            tail = []
        tails += [f"--- last lines of {shown(path)} ---", *tail]
    console.note(
        f"The platform did not come up within {READY_TIMEOUT_SECONDS:g} s; not ready: {', '.join(names)}.",
        logging.ERROR,
        detail="\n".join(tails),
        not_ready=", ".join(names),
    )


if __name__ == "__main__":
    sys.exit(main())
