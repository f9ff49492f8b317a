"""`make bench`: run every benchmark once, print the figures and write them to bench/RESULTS.md.

In order: customer-360 and event latency (bench/bench_360.py: the platform, then the baseline), the
transcoding overhead (bench/bench_transcoding.py: the platform again, REST against direct gRPC), then the
in-process CPU costs of validation and JSON (bench/bench_validate.py) and of the filter compiler
(bench/bench_filter.py, when it exists), which run after every server has stopped. Takes about five
minutes; the options are bench_360's and apply to both load benchmarks (`--help`).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import traceback
from pathlib import Path

import bench_transcoding
import bench_validate
from bench_360 import BenchSettings, exit_cleanly_on_sigterm, parse_settings, print_results, run
from report import render

RESULTS = Path(__file__).with_name("RESULTS.md")


def transcoding_settings(s: BenchSettings) -> bench_transcoding.TranscodingSettings:
    return bench_transcoding.TranscodingSettings(
        concurrency=s.concurrency,
        duration_s=s.duration_s,
        warmup_s=s.warmup_s,
        gateway_workers=s.gateway_workers,
        gateway_threads=s.gateway_threads,
        generator=s.generator,
        rounds=s.rounds,
    )


def filter_figures() -> list[tuple[str, float]] | str:
    """bench/bench_filter.py's operations, timed; or why there are none."""
    try:
        import bench_filter
    except ImportError:
        return "bench/bench_filter.py does not exist in this checkout."
    try:
        bench_filter.parse_filter(bench_filter.WORST)
        return [(label, bench_filter.per_op_us(call)) for label, call in bench_filter.operations()]
    except Exception:  # another team's script: its failure must not cost the other figures
        return f"bench/bench_filter.py failed:\n\n```\n{traceback.format_exc(limit=3)}```"


# Benchmarks that print their own figures; each runs as its own process after the load benchmarks and
# its output goes into RESULTS.md verbatim (what it measured, its ratios and its targets).
STANDALONE = (
    ("Event relay: batched against per-message confirms, commit-to-consumed latency", "bench_relay.py"),
    ("Spreading calls over service replicas (round_robin)", "bench_spread.py"),
    ("Record-level scope: scoped against unscoped lists, caller-context verification", "bench_scope.py"),
    ("Contacts import, end to end through the gateway and the worker", "bench_import.py"),
    ("Contacts export of a million rows: memory of the gateway and the contacts service", "bench_export.py"),
    ("Concurrent writes on SQLite: creates from 1, 4 and 8 clients at once", "bench_concurrent_writes.py"),
)


# Sections of RESULTS.md that a benchmark too long for `make bench` (bench_contacts_scale.py) keeps by
# hand: their heading ends with this mark, and they are carried over when the file is regenerated.
KEPT_BY_HAND = "(kept by hand)"


def kept_sections(previous: str) -> str:
    sections = re.split(r"(?m)^(?=## )", previous)
    return "".join(s for s in sections if s.startswith("## ") and s.splitlines()[0].endswith(KEPT_BY_HAND))


def standalone_sections() -> str:
    sections = []
    for title, script in STANDALONE:
        print(f"\n{title} ({script})", flush=True)
        started = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, str(Path(__file__).with_name(script))],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            output = done.stdout.strip() or done.stderr.strip()[-3000:]
            status = "" if done.returncode == 0 else f" (exit status {done.returncode})"
        except subprocess.TimeoutExpired:
            output, status = "", " (timed out after 900 s)"
        print(output, flush=True)
        took = time.monotonic() - started
        sections.append(f"## {title}\n\n`bench/{script}`{status}, {took:.0f} s:\n\n```\n{output}\n```\n")
    return "\n".join(sections)


def main() -> None:
    exit_cleanly_on_sigterm()
    settings = parse_settings()
    results = run(settings)
    print_results(results)
    print("\ntranscoding overhead: REST through the gateway against direct gRPC", flush=True)
    transcoding = bench_transcoding.run(transcoding_settings(settings))
    bench_transcoding.print_results(transcoding)
    print("\nvalidation and JSON costs", flush=True)
    validation = bench_validate.run()
    bench_validate.print_results(validation)
    print("\nfilter compiler costs", flush=True)
    filters = filter_figures()
    text = render(results, transcoding, validation, filters)
    text = text.rstrip("\n") + "\n\n" + standalone_sections()
    kept = kept_sections(RESULTS.read_text()) if RESULTS.exists() else ""
    RESULTS.write_text(text.rstrip("\n") + "\n\n" + kept if kept else text)
    cpu = text[text.index("## Where the CPU goes") : text.index("## `contact_created`")]
    print(f"\n{cpu.strip()}\n\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
