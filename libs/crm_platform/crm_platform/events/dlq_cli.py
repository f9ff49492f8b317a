"""The `dlq list|show|replay` commands, shared by `crm-<service> dlq ...` (the service's own DLQs by
default) and `python -m crm_platform.events dlq ...` (any queue named on the command line)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from crm_platform.events import dlq


def add_commands(parser: argparse.ArgumentParser, *, queue_help: str) -> None:
    """Add the `list`, `show` and `replay` actions to a `dlq` (sub)parser."""
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="show the parked messages without removing them")
    listing.add_argument("queue", nargs="?", help=queue_help)
    show = actions.add_parser("show", help="print one parked message: its headers and JSON body")
    show.add_argument("event_id")
    show.add_argument("--queue", help=queue_help)
    replay = actions.add_parser(
        "replay", help="move parked messages back to their work queue, failure headers removed"
    )
    replay.add_argument("queue", nargs="?", help=queue_help)
    replay.add_argument("--event-id", help="replay only this event")


def run(args: argparse.Namespace, amqp_url: str, default_queues: Sequence[str]) -> int:
    """Carry out the parsed `dlq` action; the exit status."""
    queues = [args.queue] if args.queue else list(default_queues)
    if not queues:
        print("error: name a queue (the work queue, e.g. sales.contacts, or its .dlq)", file=sys.stderr)
        return 2
    try:
        if args.action == "list":
            return _list(amqp_url, queues)
        if args.action == "show":
            return _show(amqp_url, queues, args.event_id)
        return _replay(amqp_url, queues, args.event_id)
    except dlq.QueueNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _list(amqp_url: str, queues: list[str]) -> int:
    for queue in queues:
        parked = dlq.list_parked(amqp_url, queue)
        for msg in parked:
            print(f"{msg.event_id}\t{msg.event_type}\tattempts={msg.attempts}\t{msg.failed_at}\t{msg.reason}")
        print(f"{len(parked)} parked in {dlq.queue_pair(queue)[0]}")
    return 0


def _show(amqp_url: str, queues: list[str], event_id: str) -> int:
    message = dlq.find_parked(amqp_url, queues, event_id)
    if message is None:
        print(f"error: no parked event {event_id} in {', '.join(queues)}", file=sys.stderr)
        return 1
    print(f"queue: {message.queue}")
    print(f"event_id: {message.event_id}")
    print(f"event_type: {message.event_type}")
    print(f"reason: {message.reason}")
    print(f"attempts: {message.attempts}")
    print(f"failed_at: {message.failed_at}")
    print("headers:")
    for name in sorted(message.headers):
        print(f"  {name}: {message.headers[name]}")
    print("body:")
    print(message.body_text())
    return 0


def _replay(amqp_url: str, queues: list[str], event_id: str | None) -> int:
    total = 0
    for queue in queues:
        moved = dlq.replay(amqp_url, queue, event_id)
        total += moved
        print(f"{moved} replayed to {dlq.queue_pair(queue)[1]}")
    if event_id is not None and total == 0:
        print(f"error: no parked event {event_id}", file=sys.stderr)
        return 1
    return 0
