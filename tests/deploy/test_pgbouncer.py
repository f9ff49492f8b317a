"""A service's database through a real PgBouncer in transaction mode, configured from the shipped ini.

PgBouncer (Debian's, installed by scripts/ensure_pgbouncer.sh) runs on a free port with
deploy/k8s/base/pgbouncer.ini, only its address, PostgreSQL's address and the auth file changed, and a
server pool of 2 so that consecutive transactions of one client land on different server connections.
The contacts service then migrates, writes and reads through it from several threads: with psycopg's
automatic prepared statements left on, the sixth execution of a statement would fail once it runs on a
server connection that never prepared it. The timeouts must hold per transaction, and the direct-mode
startup `options` must be refused (not silently dropped).
"""

from __future__ import annotations

import configparser
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import pytest
from deploy_support import K8S
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm_platform.db import make_engine
from crm_platform.grpc_client import open_channel
from crm_platform.grpc_server import GrpcServer
from crm_platform.listen_ports import free_port
from crm_platform.service import open_runtime
from crm_platform.testing.callers import caller_metadata

pytestmark = pytest.mark.postgres

PASSWORD = "pgbouncer-test-password"


def pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if found is None:
        pytest.skip("pgbouncer is not installed: run scripts/ensure_pgbouncer.sh")
    return found


@pytest.fixture
def pooler(postgres_url: str) -> Iterator[tuple[str, str]]:
    """(URL of the test database through PgBouncer, database user); PgBouncer stopped afterwards."""
    binary = pgbouncer_binary()
    server = urlsplit(postgres_url)
    user = server.username or "postgres"
    config = configparser.ConfigParser(comment_prefixes=(";", "#"), interpolation=None)
    config.read(K8S / "base" / "pgbouncer.ini")
    port = free_port()
    # PgBouncer refuses to run as root and drops to -u USER, who must read its files.
    workdir = Path(tempfile.mkdtemp(prefix="crm-pgbouncer-"))
    workdir.chmod(0o755)
    config["databases"] = {"*": f"host={server.hostname} port={server.port or 5432}"}
    config["pgbouncer"].update(
        {
            "listen_addr": "127.0.0.1",
            "listen_port": str(port),
            "auth_file": str(workdir / "userlist.txt"),
            "default_pool_size": "2",
            "reserve_pool_size": "0",
        }
    )
    (workdir / "userlist.txt").write_text(f'"{user}" "{PASSWORD}"\n')
    with (workdir / "pgbouncer.ini").open("w") as ini:
        config.write(ini)
    for path in workdir.iterdir():
        path.chmod(0o644)
    command = [binary, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
    log = (workdir / "pgbouncer.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None, (workdir / "pgbouncer.log").read_text()
            assert time.monotonic() < deadline, "pgbouncer did not start"
            time.sleep(0.05)
        yield f"postgresql://{user}:{PASSWORD}@127.0.0.1:{port}{server.path}", user
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


def test_a_service_runs_through_pgbouncer_in_transaction_mode(pooler: tuple[str, str]) -> None:
    from contacts import api
    from contacts.main import DEFINITION

    url, _user = pooler
    runtime = open_runtime(DEFINITION, url + "?pgbouncer=true")  # migrations through PgBouncer too
    server = GrpcServer("contacts", "127.0.0.1:0", lambda s: api.register(s, runtime)).start()
    channel = open_channel(f"127.0.0.1:{server.port}")
    stub = contacts_pb2_grpc.ContactsServiceStub(channel)
    metadata = caller_metadata("pgbouncer-test", "admin")

    def create_and_read(i: int) -> str:
        created = stub.CreateContact(
            contacts_pb2.CreateContactRequest(first_name="Ada", last_name=f"B{i}", email=f"b{i}@example.com"),
            metadata=metadata,
        )
        assert (
            stub.GetContact(contacts_pb2.GetContactRequest(id=created.id), metadata=metadata).id == created.id
        )
        return created.id

    try:
        # Far more than 5 executions of each statement, from 4 threads over 2 server connections.
        with ThreadPoolExecutor(4) as pool:
            ids = set(pool.map(create_and_read, range(40)))
        assert len(ids) == 40
        listed = stub.ListContacts(contacts_pb2.ListContactsRequest(limit=100), metadata=metadata)
        assert {c.id for c in listed.items} >= ids
    except grpc.RpcError as error:  # pragma: no cover - the message is what matters when it fails
        pytest.fail(f"{error.code().name}: {error.details()}")
    finally:
        channel.close()
        server.stop(0)
        runtime.engine.dispose()


def test_timeouts_hold_per_transaction_through_pgbouncer(
    pooler: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_DB_STATEMENT_TIMEOUT_MS", "300")
    url, _user = pooler
    engine = make_engine(url + "?pgbouncer=true")
    try:
        for _ in range(6):  # several transactions, whichever server connection each one gets
            with engine.connect() as conn:
                assert conn.execute(text("SHOW statement_timeout")).scalar() == "300ms"
        started = time.monotonic()
        with pytest.raises(OperationalError, match="statement timeout"), engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(5)"))
        assert time.monotonic() - started < 2
    finally:
        engine.dispose()


def test_alternating_clients_never_meet_a_prepared_statement(pooler: tuple[str, str]) -> None:
    """Two clients taking turns over the server pool: with psycopg's automatic preparing on, the second
    one to prepare hits `prepared statement "_pg3_0" already exists` on the server the first used."""
    url, _user = pooler
    engine = make_engine(url + "?pgbouncer=true")
    try:
        with engine.connect() as first, engine.connect() as second:
            for i in range(20):
                for conn in (first, second):
                    assert conn.execute(text("SELECT CAST(:x AS int) + 1"), {"x": i}).scalar() == i + 1
                    conn.commit()
    finally:
        engine.dispose()


def test_direct_mode_options_are_refused_by_pgbouncer(pooler: tuple[str, str]) -> None:
    """Without `?pgbouncer=true` the timeouts travel as the `options` startup parameter, which the shipped
    config refuses: a misconfigured URL fails loudly instead of running without timeouts."""
    url, _user = pooler
    engine = make_engine(url)
    try:
        with pytest.raises(OperationalError, match="options"), engine.connect():
            pass
    finally:
        engine.dispose()
