"""What the benchmark scripts share: percentiles, table heads, profile listings, options.

Nothing here is timed: these helpers summarise and print what a script measured.
"""

from __future__ import annotations

import argparse
import io
import pstats
from typing import Any


def pct(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """Median, first and third quartile (nearest rank) of unsorted values."""
    s = sorted(values)
    return pct(s, 0.5), pct(s, 0.25), pct(s, 0.75)


def print_head(head: str, note: str = "") -> None:
    """A table's column head (then ``note``), underlined as wide as the head."""
    print(head + note)
    print("-" * len(head))


def profile_listing(stats: pstats.Stats, sort: str, restrictions: tuple[Any, ...]) -> str:
    """``print_stats`` of ``stats`` sorted by ``sort``, from its column head on."""
    buf = io.StringIO()
    stats.stream = buf  # type: ignore[attr-defined]
    stats.sort_stats(sort).print_stats(*restrictions)
    body = buf.getvalue()
    return body[body.find("   ncalls") :] if "   ncalls" in body else body


def add_size_options(p: argparse.ArgumentParser, sizes: dict[str, str], quick: str) -> None:
    """Integer ``--NAME`` options (default None: the script picks full or quick) and ``--quick``."""
    for name, help_text in sizes.items():
        p.add_argument(f"--{name}", type=int, default=None, help=help_text)
    p.add_argument("--quick", action="store_true", help=quick)


def add_clock_option(p: argparse.ArgumentParser, help_text: str) -> None:
    """``--clock wall|cpu`` (default wall)."""
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall", help=help_text)
