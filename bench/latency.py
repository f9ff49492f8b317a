"""Commit-to-consumed latency of `contact_created`: from a contact's creation to its welcome notification.

Contacts are created through the gateway one at a time at a fixed, moderate rate on an otherwise idle
platform. Two figures per contact:

- service timestamps: notification.created_at - contact.created_at, both written by the services
  themselves (the contact's in its POST reply, the notification's via notifications' gRPC
  ListNotifications). Both are taken inside their transactions, just before the writes, so this is
  "contact row stamped -> (outbox insert, commit, relay wake, publish + confirm, broker, consumer,
  inbox insert) -> notification row stamped": it excludes the consumer's own commit.
- client-observed: from the POST reply arriving to the notification being readable over gRPC, polled
  every POLL_SECONDS by this process. It includes the consumer's commit (and up to one poll interval),
  but starts after the contacts commit and the gateway's reply, so it is not a superset of the first.
All processes run on this machine, so their clocks are the same clock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc
from crm_devrun.client import GatewayClient
from stats import percentile

from crm.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from crm_platform.testing.callers import caller_metadata, with_default_caller

POLL_SECONDS = 0.005
WAIT_FOR_STRAGGLERS_SECONDS = 30.0


@dataclass
class EventLatency:
    created: int
    rate_per_s: float
    service_ms: list[float] = field(default_factory=list)  # from the services' own timestamps
    visible_ms: list[float] = field(default_factory=list)  # as this client saw it
    missing: int = 0  # contacts whose notification never appeared within the wait
    contact_ids: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        return {
            "service_p50_ms": percentile(self.service_ms, 50),
            "service_p99_ms": percentile(self.service_ms, 99),
            "service_max_ms": max(self.service_ms, default=float("nan")),
            "visible_p50_ms": percentile(self.visible_ms, 50),
            "visible_p99_ms": percentile(self.visible_ms, 99),
        }


@dataclass
class _Pending:
    contact_id: str
    contact_created_at: datetime
    replied_at: float  # time.time() when the POST reply arrived


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def measure_event_latency(
    api: GatewayClient,
    notifications_addr: str,
    *,
    count: int,
    rate_per_s: float,
    prefix: str,
    data_dir: Path | None = None,
) -> EventLatency:
    """Create `count` contacts at `rate_per_s` and measure each one's welcome notification (read from
    the notifications service as an admin, with a caller context signed by the platform's key in
    `data_dir`)."""
    result = EventLatency(created=count, rate_per_s=rate_per_s)
    pending: list[_Pending] = []
    lock = threading.Lock()
    creating_done = threading.Event()
    with grpc.insecure_channel(notifications_addr) as channel:
        stub = notifications_pb2_grpc.NotificationsServiceStub(
            with_default_caller(channel, caller_metadata(data_dir=data_dir))
        )
        watcher = threading.Thread(
            target=_watch, args=(stub, pending, lock, creating_done, result), name="notification-watch"
        )
        watcher.start()
        try:
            start = time.monotonic()
            for i in range(count):
                # Paced by schedule, not by sleeping after each: a slow create does not lower the rate.
                time.sleep(max(0.0, start + i / rate_per_s - time.monotonic()))
                contact = api.create_contact(
                    first_name="Lat", last_name=f"Probe {i}", email=f"{prefix}-{i}@bench.example.com"
                )
                with lock:
                    pending.append(_Pending(contact["id"], _parse(contact["created_at"]), time.time()))
                result.contact_ids.append(contact["id"])
        finally:
            creating_done.set()
            watcher.join()
    return result


def _watch(
    stub: notifications_pb2_grpc.NotificationsServiceStub,
    pending: list[_Pending],
    lock: threading.Lock,
    creating_done: threading.Event,
    result: EventLatency,
) -> None:
    """Polls notifications for every contact still waiting, until all arrived or the wait runs out."""
    give_up_at: float | None = None
    while True:
        with lock:
            waiting = list(pending)
        if creating_done.is_set():
            if not waiting:
                return
            give_up_at = give_up_at or time.monotonic() + WAIT_FOR_STRAGGLERS_SECONDS
            if time.monotonic() > give_up_at:
                result.missing = len(waiting)
                return
        for item in waiting:
            try:
                reply = stub.ListNotifications(
                    notifications_pb2.ListNotificationsRequest(contact_id=item.contact_id), timeout=5
                )
            except grpc.RpcError:
                continue  # asked again next round; one that never answers ends up in `missing`
            welcome = next((n for n in reply.items if n.kind == "welcome"), None)
            if welcome is None:
                continue
            seen_at = time.time()
            consumed = welcome.created_at.ToDatetime(tzinfo=UTC)
            result.service_ms.append((consumed - item.contact_created_at).total_seconds() * 1000)
            result.visible_ms.append((seen_at - item.replied_at) * 1000)
            with lock:
                pending.remove(item)
        time.sleep(POLL_SECONDS)
