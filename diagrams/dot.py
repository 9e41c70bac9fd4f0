"""Graphviz DOT text of a chart: one cluster per task, in order."""

from __future__ import annotations

from taskchart.statecharts import Chart

__all__ = ["to_dot"]


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(chart: Chart) -> str:
    """DOT source: states (finals double-circled), transitions labelled ``event [guards]``."""
    lines = [f"digraph {_q(chart.name)} {{", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
    for spec in chart.tasks:
        lines.append(f"  subgraph cluster_{spec.id} {{")
        lines.append(f"    label={_q(spec.id)};")
        for s in chart.states:
            if s.task == spec.id and s.kind != "compound":
                shape = {"final": "doublecircle", "history": "circle"}.get(s.kind, "box")
                label = "H*" if s.kind == "history" else s.id.split("__", 1)[1]
                lines.append(f"    {s.id} [label={_q(label)}, shape={shape}];")
        lines.append("  }")
    for s in chart.states:
        if s.task is None:
            shape = "doublecircle" if s.kind == "final" else "diamond"
            lines.append(f"  {s.id} [shape={shape}];")
    for r in chart.transitions:
        lines.append(f"  {r.source} -> {r.target} [label={_q(r.label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
