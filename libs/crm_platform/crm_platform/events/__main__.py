"""`python -m crm_platform.events dlq list|replay <queue>`: inspect and replay dead-lettered events."""

from __future__ import annotations

import argparse
import sys

from crm_platform import config
from crm_platform.events import dlq


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm_platform.events")
    parser.add_argument("--amqp-url", help="RabbitMQ URL (default: $AMQP_URL)")
    commands = parser.add_subparsers(dest="group", required=True)
    dlq_parser = commands.add_parser("dlq", help="dead-letter queues")
    actions = dlq_parser.add_subparsers(dest="action", required=True)
    for action, text in (
        ("list", "show the parked messages without removing them"),
        ("replay", "move every parked message back to its work queue, attempts reset"),
    ):
        sub = actions.add_parser(action, help=text)
        sub.add_argument("queue", help="the work queue (sales.contacts.contact_created) or its .dlq")
    args = parser.parse_args(argv)
    url = args.amqp_url or config.AMQP_URL.get()
    try:
        if args.action == "list":
            parked = dlq.list_parked(url, args.queue)
            for msg in parked:
                print(
                    f"{msg.event_id}\t{msg.event_type}\tattempts={msg.attempts}\t{msg.failed_at}\t{msg.error}"
                )
            print(f"{len(parked)} parked in {dlq.queue_pair(args.queue)[0]}")
        else:
            moved = dlq.replay(url, args.queue)
            print(f"{moved} replayed to {dlq.queue_pair(args.queue)[1]}")
    except dlq.QueueNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
