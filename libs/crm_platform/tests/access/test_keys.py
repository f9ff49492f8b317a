"""Caller-context keys: local pairs for `make run`, keys from the environment, late-arriving keys."""

from __future__ import annotations

import multiprocessing
import os
import stat
import time
from pathlib import Path

import pytest

from crm_platform.access import CallerContext, CallerContextSigner, CallerContextVerifier
from crm_platform.access.context import CallerContextCheck
from crm_platform.access.keys import ReloadingKeys, _local_pair, public_keys, signing_key
from crm_platform.errors import Unauthenticated


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    for name in ("CRM_CALLER_SIGNING_KEY", "CRM_CALLER_SIGNING_KID", "CRM_CALLER_PUBLIC_KEYS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_a_local_pair_is_made_once_private_and_its_public_key_published(data_dir) -> None:
    pem, kid = signing_key()
    assert signing_key() == (pem, kid)
    private = data_dir / "keys" / "caller-context.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert list(public_keys()) == [kid]


class _SlowFile:
    """A file whose write waits first: a key being written while another process looks for it."""

    def __init__(self, raw) -> None:
        self._raw = raw

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._raw.close()

    def write(self, data: bytes) -> int:
        time.sleep(0.5)
        return self._raw.write(data)


def _pair(directory: str, results, *, slow_writer: bool, start_after: float) -> None:
    if slow_writer:
        real_fdopen = os.fdopen
        os.fdopen = lambda fd, *a, **k: _SlowFile(real_fdopen(fd, *a, **k))  # this process only
    time.sleep(start_after)
    try:
        results.put(_local_pair(Path(directory)))
    except Exception as error:  # reported to the test, which shows it
        results.put(repr(error))


def test_a_key_being_written_is_never_read_half_written(tmp_path) -> None:
    """Gateway workers start together and each makes or reads the local pair. One is still writing the
    key when another looks: the other must not find an empty file (it failed to load it), and both
    must end with the same key."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    writer = context.Process(
        target=_pair, args=(str(tmp_path), results), kwargs={"slow_writer": True, "start_after": 0}
    )
    reader = context.Process(
        target=_pair, args=(str(tmp_path), results), kwargs={"slow_writer": False, "start_after": 0.2}
    )
    writer.start()
    reader.start()
    pairs = [results.get(timeout=30) for _ in range(2)]
    writer.join(10)
    reader.join(10)
    assert all(isinstance(pair, tuple) for pair in pairs), pairs
    assert pairs[0] == pairs[1]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_service_started_before_the_gateway_finds_the_key_on_the_first_call() -> None:
    check = CallerContextCheck(CallerContextVerifier(ReloadingKeys(min_interval=0)))
    pem, kid = signing_key()  # the gateway starts after the service
    token = CallerContextSigner(pem, kid).sign(CallerContext(subject="u1"))
    assert check.caller_from([("x-crm-caller", token)]).subject == "u1"


def test_keys_from_the_environment(monkeypatch, key_pair) -> None:
    private, public = key_pair
    monkeypatch.setenv("CRM_CALLER_SIGNING_KEY", private.decode())
    monkeypatch.setenv("CRM_CALLER_SIGNING_KID", "2026-11")
    monkeypatch.setenv("CRM_CALLER_PUBLIC_KEYS", f"2026-11={public.decode()};;old={public.decode()}")
    assert signing_key() == (private, "2026-11")
    assert set(public_keys()) == {"2026-11", "old"}


def test_missing_or_forged_context_is_unauthenticated(other_key_pair) -> None:
    _, kid = signing_key()
    check = CallerContextCheck(CallerContextVerifier(ReloadingKeys(min_interval=0)))
    with pytest.raises(Unauthenticated, match="needs a caller context"):
        check.caller_from([("x-crm-user-id", "u1")])  # the old bare header is not a credential
    forged = CallerContextSigner(other_key_pair[0], kid).sign(CallerContext(subject="admin"))
    with pytest.raises(Unauthenticated):
        check.caller_from([("x-crm-caller", forged)])
    assert check.is_open("/grpc.health.v1.Health/Check") and not check.is_open(
        "/crm.contacts.v1.ContactsService/GetContact"
    )
