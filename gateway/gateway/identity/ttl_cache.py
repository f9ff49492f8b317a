"""A per-worker cache whose entries are trusted for a few seconds, then loaded again.

It is how deactivation, revocation and role changes reach every gateway worker within seconds without a
database read per request per table: each worker re-reads a user's (or key's) state at most once per TTL.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, load: Callable[[K], V], ttl_seconds: float, max_entries: int = 50_000) -> None:
        self._load = load
        self._ttl = ttl_seconds
        self._max = max_entries
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and now - found[0] < self._ttl:
                return found[1]
        # Loaded outside the lock: a slow query must not stall every other request of the worker.
        value = self._load(key)
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return value

    def forget(self, key: K) -> None:
        """Drop one entry, so this worker sees its own change at once (others within the TTL)."""
        with self._lock:
            self._entries.pop(key, None)
