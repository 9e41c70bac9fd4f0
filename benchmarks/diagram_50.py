"""Diagram of a 50-task group: chart build time and DOT text time.

Run ``python benchmarks/diagram_50.py``. Issue 6 targets: chart build
< 200 ms, DOT text < 100 ms. Figures are printed, not asserted. Every chart
build uses new spec objects (``compile_chart`` caches per spec objects), and
each DOT round uses a fresh chart (its configuration views are cached).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from taskchart.diagrams import to_dot, to_mermaid
from taskchart.statecharts import (
    Chart,
    Field,
    TaskSpec,
    compile_chart,
    declarative_task,
    implicit_task,
)

N = 50


def implicit_specs() -> list[TaskSpec]:  # what a LiveKit TaskGroup of hand-written tasks compiles
    return [
        implicit_task(f"task_{i}", tools=[f"record_{i}"], description=f"step {i}") for i in range(N)
    ]


def declarative_specs() -> list[TaskSpec]:
    return [declarative_task(f"task_{i}", fields=[Field("a"), Field("b")]) for i in range(N)]


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    rounds = 3 if "--quick" in sys.argv else 10
    print(f"{N}-task group, {rounds} rounds, median (min) in ms")
    for name, make in (("implicit", implicit_specs), ("declarative", declarative_specs)):
        build = timed(lambda make=make: compile_chart(make()), rounds)
        charts: list[Chart] = [compile_chart(make()) for _ in range(rounds)]
        fresh = iter(charts)
        dot = timed(lambda fresh=fresh: to_dot(next(fresh)), rounds)  # type: ignore[misc]
        fresh2 = iter(charts)
        mmd = timed(lambda fresh2=fresh2: to_mermaid(next(fresh2)), rounds)  # type: ignore[misc]
        first = charts[0]
        warm = timed(lambda first=first: to_dot(first), rounds)  # type: ignore[misc]
        chart = charts[0]
        print(
            f"  {name:<12} {len(chart.states)} states, {len(chart.transitions)} rows, "
            f"{len(to_dot(chart)) // 1024} KiB DOT"
        )
        for label, xs, target in (
            ("chart build", build, 200.0),
            ("DOT text (fresh chart)", dot, 100.0),
            ("DOT text (warm chart)", warm, 100.0),
            ("Mermaid text", mmd, None),
        ):
            med = statistics.median(xs)
            goal = f"  target < {target:.0f} ms: {med / target:.2f}x of budget" if target else ""
            print(f"    {label:<24} {med:8.2f} ({min(xs):.2f}){goal}")


if __name__ == "__main__":
    main()
