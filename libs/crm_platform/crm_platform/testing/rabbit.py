"""Throw-away RabbitMQ vhosts and broker stop/start, driven through `rabbitmqctl` (needs root)."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pika
import pika.exceptions

from crm_platform import config

_RABBITMQCTL_TIMEOUT = 60.0


def rabbitmq_reachable(url: str | None = None, timeout: float = 2.0) -> bool:
    """True when an AMQP connection to `url` (default: AMQP_URL) can be opened and closed."""
    params = pika.URLParameters(url or config.AMQP_URL.get())
    params.socket_timeout = timeout
    params.blocked_connection_timeout = timeout
    params.connection_attempts = 1
    try:
        connection = pika.BlockingConnection(params)
    except (pika.exceptions.AMQPError, OSError):
        return False
    with contextlib.suppress(pika.exceptions.AMQPError):
        connection.close()
    return True


def _rabbitmqctl(*args: str, stdin: str | None = None) -> None:
    result = subprocess.run(
        ["rabbitmqctl", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=_RABBITMQCTL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip() or result.stdout}")


def create_vhost(name: str, user: str = "guest") -> None:
    """Create vhost `name` and give `user` full rights on it."""
    _rabbitmqctl("add_vhost", name)
    _rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")


def create_vhosts(names: list[str], user: str = "guest", timeout: float = 30.0) -> None:
    """Create several vhosts, each with full rights for `user`, in one `rabbitmqctl` call (each call
    boots an Erlang VM, which costs more than the work); returns once all of them accept connections."""
    definitions = {
        "vhosts": [{"name": name} for name in names],
        "permissions": [
            {"user": user, "vhost": name, "configure": ".*", "write": ".*", "read": ".*"} for name in names
        ],
    }
    # Through stdin: the broker reads a file argument as its own OS user, which cannot read ours.
    _rabbitmqctl("import_definitions", "--format", "json", stdin=json.dumps(definitions))
    # The import is applied asynchronously; a connection succeeds once vhost and permissions are in.
    deadline = time.monotonic() + timeout
    for name in names:
        while not rabbitmq_reachable(amqp_url_for_vhost(name)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"vhost {name!r} not usable {timeout}s after import_definitions")
            time.sleep(0.05)


def delete_vhost(name: str) -> None:
    """Delete vhost `name` with everything in it; open connections to it are closed by the broker."""
    _rabbitmqctl("delete_vhost", name)


def amqp_url_for_vhost(vhost: str, base_url: str | None = None) -> str:
    """`base_url` (default: AMQP_URL) pointing at `vhost`, which is URL-encoded (so "/" becomes %2F)."""
    parts = urlsplit(base_url or config.AMQP_URL.get())
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), parts.query, ""))


def stop_broker() -> None:
    """Stop the RabbitMQ application (the Erlang node stays up); every client connection drops.

    This affects every user of the broker on this machine (every engineer, every CI job): tests must not
    call it on the shared broker. Fault tests stop a node of their own (`rabbit_node.RabbitNode`).
    """
    _rabbitmqctl("stop_app")


def start_broker(url: str | None = None, timeout: float = 60.0) -> None:
    """Start the RabbitMQ application and wait until it accepts AMQP connections again."""
    _rabbitmqctl("start_app")
    url = url or config.AMQP_URL.get()
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port) and rabbitmq_reachable(url):
            return
        time.sleep(0.2)
    raise TimeoutError(f"RabbitMQ did not accept connections on {host}:{port} within {timeout}s")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def vhost_of(url: str) -> str:
    """The vhost an AMQP URL points at ("/" when the path is empty)."""
    path = urlsplit(url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def close_connections(vhost: str) -> None:
    """Have the broker drop every client connection to `vhost`, as a network failure would; other
    vhosts (other tests, other engineers) are not touched."""
    _rabbitmqctl("close_all_connections", "--vhost", vhost, "closed by a test")
