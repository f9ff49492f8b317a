"""Small statistics helpers and the result of one load run, shared by the generators and the report."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (the value below which `pct` % of the samples fall); NaN when empty.

    Nearest rank rather than interpolation: every figure reported is a latency that really happened.
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class LoadResult:
    """One measured window of closed-loop load (each client sends its next request on the last reply)."""

    generator: str  # "wrk" or "python (P processes x T threads)"
    concurrency: int
    duration_s: float  # the measured window, warm-up excluded
    requests: int  # completed in the window, whatever their status
    errors: int  # non-200 replies plus transport errors (timeouts, resets)
    p50_ms: float
    p99_ms: float
    # status code (or "timeout", "connect", "read", ...) -> count, for everything that is not a 200
    error_kinds: dict[str, int] = field(default_factory=dict)
    error_sample: str = ""  # the start of one failed reply, to investigate errors rather than hide them
    window: tuple[float, float] = (0.0, 0.0)  # time.time() at the start and end of the measured window

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def ok_rps(self) -> float:
        return (self.requests - self.errors) / self.duration_s if self.duration_s > 0 else 0.0

    def summary(self) -> str:
        text = (
            f"{self.rps:8.1f} req/s  p50 {self.p50_ms:7.1f} ms  p99 {self.p99_ms:7.1f} ms  "
            f"errors {self.errors}/{self.requests}"
        )
        if self.error_kinds:
            text += f" {self.error_kinds}"
        return text


def merge_rounds(rounds: Sequence[LoadResult]) -> LoadResult:
    """Several measured windows of one target as one result: requests, errors and time summed (so
    requests/s is over all of them), p50 and p99 the median of the windows' own (the load generators
    report percentiles per run, not every latency), error kinds added up."""
    if len(rounds) == 1:
        return rounds[0]
    kinds: dict[str, int] = {}
    for result in rounds:
        for kind, count in result.error_kinds.items():
            kinds[kind] = kinds.get(kind, 0) + count
    return LoadResult(
        generator=rounds[0].generator,
        concurrency=rounds[0].concurrency,
        duration_s=sum(r.duration_s for r in rounds),
        requests=sum(r.requests for r in rounds),
        errors=sum(r.errors for r in rounds),
        p50_ms=statistics.median(r.p50_ms for r in rounds),
        p99_ms=statistics.median(r.p99_ms for r in rounds),
        error_kinds=kinds,
        error_sample=next((r.error_sample for r in rounds if r.error_sample), ""),
        window=(rounds[0].window[0], rounds[-1].window[1]),
    )
