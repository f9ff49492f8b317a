"""Password hashing: argon2id with parameters chosen for a server, and a bound on hashes in flight.

Parameters (OWASP Password Storage Cheat Sheet, argon2id): memory 19 MiB (19456 KiB), time cost 2,
parallelism 1 by default. argon2-cffi's default is 64 MiB with parallelism 4: 50 concurrent logins
would then ask for 3.2 GB. Here every hash runs on a small pool of `max_concurrent` threads per worker
(the requests wait for their turn), so a worker's hashing memory is bounded by max_concurrent x
memory_kib whatever the number of login requests in flight. A pool rather than a semaphore because
glibc keeps a freed 19 MiB block in the malloc arena of the thread that freed it: with a semaphore, each
of the (up to 8 x cores) arenas the request threads land on ended up holding one (measured: 329 MiB of
RSS growth for 50 concurrent logins with 4 at a time); with the pool, only its threads ever allocate.
One hash costs ~20-40 ms of one core with these parameters.

Hashes made with other parameters keep verifying (the parameters are in the hash) and are upgraded at the
next successful login (`needs_rehash`).
"""

from __future__ import annotations

import functools
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

DEFAULT_MEMORY_KIB = 19456
DEFAULT_TIME_COST = 2
PARALLELISM = 1  # one lane: concurrency comes from requests, and p>1 would multiply threads per login
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


class PasswordHashing:
    def __init__(
        self,
        *,
        memory_kib: int = DEFAULT_MEMORY_KIB,
        time_cost: int = DEFAULT_TIME_COST,
        max_concurrent: int = 4,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=PARALLELISM, type=Type.ID
        )
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._pool_lock = threading.Lock()
        self.memory_kib = memory_kib
        self.max_concurrent = max_concurrent

    @functools.cached_property
    def dummy_hash(self) -> str:
        """Verified instead of a real hash for unknown emails, so their answer takes as long (made with
        these parameters, so it costs what a real one does)."""
        return self.hash(secrets.token_urlsafe(16))

    def _threads(self) -> ThreadPoolExecutor:
        """The pool of this process: threads do not survive fork, and a pool copied into a gunicorn
        worker from the master (which hashes the bootstrap admin's password) would wait forever."""
        with self._pool_lock:
            if self._pool is None or self._pool_pid != os.getpid():
                self._pool = ThreadPoolExecutor(max_workers=self.max_concurrent, thread_name_prefix="argon2")
                self._pool_pid = os.getpid()
            return self._pool

    def hash(self, password: str) -> str:
        return self._threads().submit(self._hasher.hash, password).result()

    def verify(self, password_hash: str, password: str) -> bool:
        return self._threads().submit(self._verify, password_hash, password).result()

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True


@functools.cache
def default_hashing() -> PasswordHashing:
    """The default parameters, for code that has no settings at hand (bootstrap, tests)."""
    return PasswordHashing()


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None. Length only (NIST SP 800-63B): composition rules push
    people to predictable patterns."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters long"
    return None
