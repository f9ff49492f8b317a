"""Small statistics helpers and the result of one load run, shared by the generators and the report."""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

# Percentiles each load run reports its latency distribution at (wrk_paths.lua writes the same grid),
# so that the runs of one target can be pooled into one distribution (merge_rounds).
QUANTILE_GRID: tuple[float, ...] = (*(i / 10 for i in range(1, 1000)), 99.95, 99.99, 100.0)


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
    quantiles_ms: tuple[float, ...] = ()  # latency at each QUANTILE_GRID percentile (empty: unknown)

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


def quantiles_of(values: Sequence[float]) -> tuple[float, ...]:
    """The QUANTILE_GRID percentiles of raw latencies (nearest rank, as `percentile`)."""
    if not values:
        return ()
    ordered = sorted(values)
    return tuple(ordered[max(1, math.ceil(p / 100.0 * len(ordered))) - 1] for p in QUANTILE_GRID)


def _cdf(quantiles: Sequence[float], x: float) -> float:
    """Share of one run's requests at or below `x` ms, interpolated between its grid percentiles."""
    i = bisect.bisect_right(quantiles, x)
    if i == 0:
        return 0.0
    if i >= len(quantiles):
        return 1.0
    low, high = quantiles[i - 1], quantiles[i]
    p_low, p_high = QUANTILE_GRID[i - 1], QUANTILE_GRID[i]
    share = (x - low) / (high - low) if high > low else 0.0
    return (p_low + share * (p_high - p_low)) / 100.0


def pooled_percentile(rounds: Sequence[LoadResult], pct: float) -> float:
    """The `pct` percentile of all the runs' requests together: the smallest latency at which the
    request-weighted mixture of the runs' distributions reaches `pct` %."""
    total = sum(r.requests for r in rounds)
    target = pct / 100.0
    previous_x, previous_share = 0.0, 0.0
    for x in sorted({x for r in rounds for x in r.quantiles_ms}):
        share = sum(r.requests * _cdf(r.quantiles_ms, x) for r in rounds) / total
        if share >= target - 1e-9:
            if share <= previous_share:
                return x
            return previous_x + (target - previous_share) / (share - previous_share) * (x - previous_x)
        previous_x, previous_share = x, share
    return previous_x if total else math.nan


def merge_rounds(rounds: Sequence[LoadResult]) -> LoadResult:
    """Several measured windows of one target as one result: requests, errors and time summed (so
    requests/s is over all of them), p50 and p99 over all their requests (pooled from each window's
    latency distribution; the median of the windows' own when a generator did not report one), error
    kinds added up."""
    if len(rounds) == 1:
        return rounds[0]
    pooled = all(r.quantiles_ms for r in rounds) and sum(r.requests for r in rounds) > 0
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
        p50_ms=pooled_percentile(rounds, 50) if pooled else statistics.median(r.p50_ms for r in rounds),
        p99_ms=pooled_percentile(rounds, 99) if pooled else statistics.median(r.p99_ms for r in rounds),
        error_kinds=kinds,
        error_sample=next((r.error_sample for r in rounds if r.error_sample), ""),
        window=(rounds[0].window[0], rounds[-1].window[1]),
    )
