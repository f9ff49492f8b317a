"""A private RabbitMQ node for fault tests: stopped, killed and restarted without touching the shared broker.

The machine's broker (rabbit@localhost, port 5672) serves every engineer and CI job at once; a test that
stops it breaks all of them. A `RabbitNode` is a second broker on the same machine with its own node name,
AMQP port, Erlang distribution port, data, log and config files under a directory of the test's own, and
an Erlang cookie of its own (so neither /var/lib/rabbitmq/.erlang.cookie nor $HOME/.erlang.cookie is read
or written). EPMD is shared: it only maps node names to distribution ports. No plugins are enabled.

Stopping and starting again keep the data directory, so durable queues and persistent messages survive,
as they would on a real broker restart. The scripts under /usr/lib/rabbitmq/bin are used directly: the
/usr/sbin wrappers switch to the `rabbitmq` user, which could not use the test's directory.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from crm_platform import config
from crm_platform.listen_ports import free_ports
from crm_platform.testing.rabbit import amqp_url_for_vhost, port_open, rabbitmq_reachable

BIN_DIR = config.Setting(
    "CRM_TEST_RABBITMQ_BIN_DIR",
    config.as_str,
    default="/usr/lib/rabbitmq/bin",
    help="tests only: directory of the unwrapped rabbitmq-server and rabbitmqctl scripts used to run "
    "private broker nodes for fault tests",
)


class RabbitNodeUnavailable(RuntimeError):
    """This machine cannot run a private node (no RabbitMQ scripts, not allowed to); the message says why."""


def _binaries() -> tuple[Path, Path]:
    directory = Path(BIN_DIR.get())
    server, ctl = directory / "rabbitmq-server", directory / "rabbitmqctl"
    if not (os.access(server, os.X_OK) and os.access(ctl, os.X_OK)):
        raise RabbitNodeUnavailable(
            f"no executable rabbitmq-server and rabbitmqctl in {directory} (set CRM_TEST_RABBITMQ_BIN_DIR)"
        )
    return server, ctl


class RabbitNode:
    """One private broker node. Use as a context manager (or call `close()`): the node is always killed."""

    def __init__(self, base_dir: Path, *, name: str | None = None) -> None:
        self.server_script, self.ctl_script = _binaries()
        self.base_dir = base_dir
        self.name = name or f"crm-fault-{os.getpid()}-{secrets.token_hex(3)}@localhost"
        self.amqp_port, self.dist_port = free_ports(2)
        self.process: subprocess.Popen[bytes] | None = None
        self._watchdog: _Lifeline | None = None
        self._home = base_dir / "home"
        self._write_files()

    # -- addresses ------------------------------------------------------------------------------

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2F"

    def url_for_vhost(self, vhost: str) -> str:
        return amqp_url_for_vhost(vhost, self.amqp_url)

    @property
    def log_file(self) -> Path:
        return self.base_dir / "log" / f"{self.name}.log"

    # -- life cycle -----------------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> None:
        """Start the node (same ports, same data as any earlier run) and wait until AMQP answers."""
        if self.running:
            return
        output = (self.base_dir / "server-output.log").open("ab")
        try:
            self.process = subprocess.Popen(
                [str(self.server_script)],
                env=self._env(),
                cwd=self.base_dir,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() takes the whole Erlang VM
            )
        finally:
            output.close()
        self._watchdog = _start_watchdog(self.process.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RabbitNodeUnavailable(
                    f"rabbitmq-server for {self.name} exited with {self.process.returncode}: {self._tail()}"
                )
            if port_open("127.0.0.1", self.amqp_port) and rabbitmq_reachable(self.amqp_url):
                return
            time.sleep(0.2)
        self.kill()
        raise TimeoutError(
            f"{self.name} did not accept AMQP on {self.amqp_port} within {timeout}s: {self._tail()}"
        )

    def stop(self, timeout: float = 60.0) -> None:
        """Graceful shutdown (as `systemctl stop rabbitmq-server` does); the data stays for `start()`."""
        if not self.running:
            return
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):  # then it is killed below
            self.ctl("shutdown", timeout=timeout)
        self._reap(timeout=10.0)

    def kill(self) -> None:
        """kill -9 the node's whole process group, as a crash or an OOM kill would end it."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        if self._watchdog is not None:
            self._watchdog.close()  # its job is done; it exits on the end of the pipe
            self._watchdog = None
        # The Erlang VM and its helpers (erl_child_setup, inet_gethost) are in the same group; wait until
        # none runs, so the ports are free for the next start.
        deadline = time.monotonic() + 30
        while group_members(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.process = None

    def restart(self, timeout: float = 90.0) -> None:
        self.stop()
        self.start(timeout)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def close(self) -> None:
        """Kill the node whatever its state; called by the fixtures' teardown."""
        self.kill()

    def __enter__(self) -> RabbitNode:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # -- administration -------------------------------------------------------------------------

    def ctl(self, *args: str, timeout: float = 60.0, stdin: str | None = None) -> str:
        """Run `rabbitmqctl -n <this node> ...` with this node's cookie; returns its output."""
        result = subprocess.run(
            [str(self.ctl_script), "-n", self.name, *args],
            env=self._env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"rabbitmqctl {' '.join(args)} on {self.name}: {result.stderr or result.stdout}"
            )
        return result.stdout

    def create_vhost(self, vhost: str, user: str = "guest") -> str:
        """Create `vhost` with full rights for `user`; returns its AMQP URL."""
        self.ctl("add_vhost", vhost)
        self.ctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        return self.url_for_vhost(vhost)

    # -- internals ------------------------------------------------------------------------------

    def _write_files(self) -> None:
        for directory in ("mnesia", "log", "home"):
            (self.base_dir / directory).mkdir(parents=True, exist_ok=True)
        cookie = self._home / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text(secrets.token_hex(20).upper())
            cookie.chmod(0o400)  # Erlang refuses a cookie others can read
        (self.base_dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.amqp_port}\n"
            "log.console = false\n"
            "log.file.level = info\n"
            # A test machine's disk is often fuller than a server's; 50 MB free is enough for tests.
            "disk_free_limit.absolute = 50MB\n"
        )
        (self.base_dir / "enabled_plugins").write_text("[].\n")
        # Replaces /etc/rabbitmq/rabbitmq-env.conf, which names the shared node.
        (self.base_dir / "rabbitmq-env.conf").write_text("")

    def _env(self) -> dict[str, str]:
        base = self.base_dir
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("RABBITMQ_", "ERL_"))  # nothing of another node's setup leaks in
        }
        env.update(
            {
                "HOME": str(self._home),  # the Erlang cookie of this node (and its rabbitmqctl)
                "RABBITMQ_NODENAME": self.name,
                "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                "RABBITMQ_NODE_PORT": str(self.amqp_port),
                "RABBITMQ_DIST_PORT": str(self.dist_port),
                "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
                "RABBITMQ_LOG_BASE": str(base / "log"),
                "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
                "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
                "RABBITMQ_PID_FILE": str(base / "rabbitmq.pid"),
                "ERL_EPMD_ADDRESS": "127.0.0.1",
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            }
        )
        return env

    def _reap(self, timeout: float) -> None:
        process = self.process
        if process is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
        self.kill()

    def _tail(self, lines: int = 15) -> str:
        for path in (self.log_file, self.base_dir / "server-output.log"):
            if path.exists() and path.stat().st_size:
                return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        return "(no output)"


# Waits until its stdin ends (the test process closed it, or died: the kernel closes it then), then
# kills the node's process group. pytest's teardown kills the node normally; this covers a test run that
# is itself killed (a CI timeout, kill -9), which would otherwise leave a broker running on the machine.
_WATCHDOG = """
import os, signal, sys
sys.stdin.buffer.read()
try:
    os.killpg(int(sys.argv[1]), signal.SIGKILL)
except ProcessLookupError:
    pass
"""


class _Lifeline:
    def __init__(self, write_end: int, process: subprocess.Popen[bytes]) -> None:
        self._write_end = write_end
        self._process = process

    def close(self) -> None:
        os.close(self._write_end)
        self._process.wait(timeout=10)


def _start_watchdog(pgid: int) -> _Lifeline:
    read_end, write_end = os.pipe()  # both ends non-inheritable: no other child keeps the pipe open
    try:
        watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(pgid)],
            stdin=read_end,
            start_new_session=True,  # a Ctrl-C to the test run must not end it before it does its job
        )
    finally:
        os.close(read_end)
    return _Lifeline(write_end, watchdog)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group `pgid`, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after its ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(stat.parent.name))
    return found


def rabbit_node_available() -> str | None:
    """None when this machine can run a private node, else why not (for a pytest skip message)."""
    try:
        _binaries()
    except RabbitNodeUnavailable as why:
        return str(why)
    if shutil.which("erl") is None and not Path("/usr/lib/erlang/bin/erl").exists():
        return "no Erlang runtime (erl) on this machine"
    return None
