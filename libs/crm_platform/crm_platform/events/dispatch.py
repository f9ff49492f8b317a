"""A bounded pool of worker threads where work with the same key always runs on the same thread.

The consumer keys each event by its aggregate, so one aggregate's events are applied one at a time in
delivery order while different aggregates proceed in parallel (Kafka's per-partition ordering, with
threads for partitions). Keeping handlers here leaves the pika connection thread free for I/O, so a
slow handler can never starve the AMQP heartbeat.
"""

from __future__ import annotations

import logging
import queue
import threading
import zlib
from collections.abc import Callable

log = logging.getLogger(__name__)

Task = Callable[[], None]


class KeyedWorkerPool:
    def __init__(self, size: int, name: str) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one thread")
        self._queues: list[queue.SimpleQueue[Task | None]] = [queue.SimpleQueue() for _ in range(size)]
        self._stopping = threading.Event()
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, args=(q,), name=f"{name}-{i}", daemon=True)
            for i, q in enumerate(self._queues)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def size(self) -> int:
        return len(self._threads)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def submit(self, key: str, task: Task) -> None:
        # crc32 rather than hash(): stable, and spreads short ids well enough.
        index = zlib.crc32(key.encode("utf-8")) % len(self._queues)
        with self._pending_lock:
            self._pending += 1
        self._queues[index].put(task)

    def idle(self) -> bool:
        with self._pending_lock:
            return self._pending == 0

    def wait_stopping(self, seconds: float) -> bool:
        """Sleep up to `seconds` unless the pool is stopping; True if it is (for back-off loops)."""
        return self._stopping.wait(seconds)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking work: the task in hand finishes, queued ones are dropped (the consumer leaves
        their messages unacked, so the broker redelivers them). Waits up to `timeout` for the threads."""
        self._stopping.set()
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join(timeout)

    def _work(self, tasks: queue.SimpleQueue[Task | None]) -> None:
        while True:
            task = tasks.get()
            try:
                if task is None or self._stopping.is_set():
                    if task is None:
                        return
                    continue
                task()
            except Exception:
                log.exception("event worker task failed")  # tasks handle their errors; belt and braces
            finally:
                if task is not None:
                    with self._pending_lock:
                        self._pending -= 1
