"""`python -m crm_platform.events dlq list|show|replay <queue>`: inspect and replay dead-lettered events.

A service's own command does the same for its queues without naming them: `crm-<service> dlq ...`.
"""

from __future__ import annotations

import argparse
import sys

from crm_platform import config
from crm_platform.events import dlq_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm_platform.events")
    parser.add_argument("--amqp-url", help="RabbitMQ URL (default: $AMQP_URL)")
    commands = parser.add_subparsers(dest="group", required=True)
    dlq_parser = commands.add_parser("dlq", help="dead-letter queues")
    dlq_cli.add_commands(dlq_parser, queue_help="the work queue (sales.contacts) or its .dlq")
    args = parser.parse_args(argv)
    return dlq_cli.run(args, args.amqp_url or config.AMQP_URL.get(), default_queues=())


if __name__ == "__main__":
    sys.exit(main())
