"""A health watch held open on each of the gateway's channels to the services.

grpc-python polls a channel's completion queue on a thread it starts when the channel's first call begins
and that exits once no call is in flight; the next call starts a new thread. Under the gateway's load
every channel goes idle between bursts many times a second, so a view paid thread starts on several of
its five channels (about 4-7 % of a gateway worker's CPU samples, bench/PROFILE.md). A server-streaming
`grpc.health.v1.Health/Watch` call counts as in flight for as long as it is open, so the thread lives as
long as the channel. The stream also tells the serving status the service reports (NOT_SERVING as soon
as it starts a graceful shutdown), kept in `status`.

The watch costs the services nothing while idle: their health servicer answers Watch without holding a
handler thread (grpcio-health-checking's non-blocking mode). A watch that ends (the service restarted,
the connection dropped) is opened again after a pause that grows up to RETRY_MAX_SECONDS.
"""

from __future__ import annotations

import logging
import threading

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

log = logging.getLogger(__name__)

RETRY_MIN_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0


class ChannelWatch:
    """Keeps a Watch stream open on `channel` until `close()`; `status` is the last status it told."""

    def __init__(self, channel: grpc.Channel, name: str) -> None:
        self._stub = health_pb2_grpc.HealthStub(channel)
        self._closed = threading.Event()
        self._call: grpc.Future | None = None
        self._lock = threading.Lock()
        self.status: int | None = None  # HealthCheckResponse.ServingStatus; None until told
        self._thread = threading.Thread(target=self._run, name=f"health-watch-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pause = RETRY_MIN_SECONDS
        while not self._closed.is_set():
            try:
                with self._lock:
                    if self._closed.is_set():
                        return
                    self._call = self._stub.Watch(health_pb2.HealthCheckRequest(service=""))
                for answer in self._call:  # type: ignore[union-attr]
                    self.status = answer.status
                    pause = RETRY_MIN_SECONDS
            except grpc.RpcError as error:
                if self._closed.is_set():
                    return
                log.debug("health watch ended: %s", error.code())
            except ValueError:  # the channel was closed under the watch: nothing left to watch
                return
            self.status = None
            self._closed.wait(pause)
            pause = min(pause * 2, RETRY_MAX_SECONDS)

    def close(self) -> None:
        with self._lock:
            self._closed.set()
            if self._call is not None:
                self._call.cancel()
