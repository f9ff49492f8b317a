"""`make bench`: run the customer-360 and event-latency benchmark once, print the figures and write them
to bench/RESULTS.md. Takes about two minutes; see bench/bench_360.py for what it does and its options."""

from __future__ import annotations

from pathlib import Path

from bench_360 import exit_cleanly_on_sigterm, parse_settings, print_results, run
from report import render

RESULTS = Path(__file__).with_name("RESULTS.md")


def main() -> None:
    exit_cleanly_on_sigterm()
    results = run(parse_settings())
    text = render(results)
    RESULTS.write_text(text)
    print_results(results)
    cpu = text[text.index("## Where the CPU goes") : text.index("## `contact_created`")]
    print(f"\n{cpu.strip()}\n\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
