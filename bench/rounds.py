"""Alternating rounds: several targets measured in turns under the same load, so that work outside the
benchmark (other users of a shared machine) falls on all of them alike instead of on whichever ran
during it.

Each target runs `rounds` windows of duration/rounds seconds, in the order A B, then B A, then A B...;
the first window of each is preceded by the full warm-up, the later ones by a short one (connections
are new each window, the servers stay warm). A target's figures are its windows merged
(stats.merge_rounds) and its CPU summed over them, with the other targets' processes, which are running
but idle meanwhile, counted as everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cpu import CpuSampler, CpuUsage
from stats import LoadResult, merge_rounds

LATER_WARMUP_SECONDS = 1.0


@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[float, float], LoadResult]  # (measured seconds, warm-up seconds) -> one window
    roots: Mapping[str, int]  # its processes: component name -> pid (whole trees)


@dataclass
class Measured:
    load: LoadResult  # the windows merged
    cpu: CpuUsage  # summed over the windows
    rounds: list[LoadResult] = field(default_factory=list)  # each window, in order


def alternate(
    targets: Sequence[Target], *, rounds: int, duration_s: float, warmup_s: float, sampler: CpuSampler
) -> dict[str, Measured]:
    rounds = max(1, rounds)
    window = duration_s / rounds
    all_roots = {name: pid for target in targets for name, pid in target.roots.items()}
    windows: dict[str, list[LoadResult]] = {t.name: [] for t in targets}
    usages: dict[str, CpuUsage] = {t.name: CpuUsage(0.0) for t in targets}
    for round_ in range(rounds):
        order = targets if round_ % 2 == 0 else list(reversed(targets))
        for target in order:
            result = target.run(window, warmup_s if round_ == 0 else min(LATER_WARMUP_SECONDS, warmup_s))
            others = set(all_roots) - set(target.roots)
            usage = sampler.usage(*result.window, all_roots).folding(others)
            windows[target.name].append(result)
            usages[target.name] = usages[target.name].plus(usage)
    return {name: Measured(merge_rounds(results), usages[name], results) for name, results in windows.items()}
