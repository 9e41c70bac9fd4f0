"""Diagrams drawn from the same transition table that runs.

>>> from taskchart.statecharts import Field, declarative_task, compile_chart
>>> dot = to_dot(compile_chart(declarative_task("name", fields=[Field("name")])))
>>> "name__collecting -> name__confirming" in dot
True

``render(chart, "flow.svg")`` runs Graphviz ``dot``; ``to_mermaid`` needs
nothing. ``Coverage.from_files(chart, logs)`` reads journals written by
``taskchart.runtime.replay.dump_journal``. CLI: ``taskchart diagram`` and
``taskchart coverage`` (loading TARGETs is the console adapter's job).
"""

from .coverage import Coverage, read_journals
from .dot import to_dot
from .mermaid import to_mermaid
from .model import LiveState
from .render import GraphvizNotFoundError, render

__all__ = [
    "Coverage",
    "GraphvizNotFoundError",
    "LiveState",
    "read_journals",
    "render",
    "to_dot",
    "to_mermaid",
]
