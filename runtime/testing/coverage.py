"""What runs of a generated machine covered: states, transitions, counts.

Rules of this file: plain records, filled by the machine as it runs and
read by :func:`~taskchart.runtime.testing.explore` and your own tests.
"""

from __future__ import annotations

import attrs
from taskchart.statecharts import Chart


@attrs.define
class Coverage:
    """What runs of a generated machine did: states, transitions, counts."""

    states: set[str] = attrs.field(factory=set)
    transitions: set[tuple[str, str, str]] = attrs.field(factory=set)
    events: int = 0
    accepted: int = 0
    steps: int = 0  # transitions taken (accepted events with a chart step)
    runs: int = 0

    def merge_step(self, source: str, event: str, target: str) -> None:
        self.states.add(target)
        self.transitions.add((source, event, target))
        self.steps += 1


@attrs.frozen
class Exploration:
    """The result of :func:`explore`."""

    chart: Chart
    coverage: Coverage
    seconds: float
    unvisited: tuple[str, ...]

    @property
    def transitions_per_second(self) -> float:
        return self.coverage.steps / self.seconds if self.seconds else 0.0
