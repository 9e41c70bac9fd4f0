"""Graphviz DOT text of a chart: one cluster per task, in order.

Drawing rules: atomic states are rounded boxes listing the tools offered
there; finals are double-bordered; ``H*`` is a task's deep history (its
dotted edge points at the state a fresh entry starts in; the first task has
none: it never goes back, so it is never resumed); ``dispatch`` is the
transient choice that enters the next task. Every row of the transition
table is an edge with the DOT ``id`` ``t<row>``; a task's regression row is
drawn as one dashed ``out_of_scope`` edge (``t<row>_<task>``) to each earlier
task. Edges that leave or enter a whole task are clipped at its box
(``ltail``/``lhead``); several such edges between the same two tasks (a
menu's option and its exits, all to the operator) are one edge listing
every label, with the ids ``t<row>+t<row>...``: Graphviz's ``dot`` aborts
laying out parallel edges between clusters (``makeCompoundEdge``).

>>> from taskchart.statecharts import Field, declarative_task, compile_chart
>>> dot = to_dot(compile_chart(declarative_task("name", fields=[Field("name")])))
>>> "name__collecting -> name__confirming" in dot
True
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence

from taskchart.statecharts import Chart, StateDef

from .coverage import Coverage
from .model import (
    DrawnEdge,
    LiveState,
    Shown,
    drawn_edges,
    initial_leaf,
    short_name,
    state_tools,
)

__all__ = ["to_dot"]

FONT = "Helvetica"
ACTIVE_FILL = "#ffe08a"
ACTIVE_LINE = "#b8860b"
TOOL_COLOR = "#1f5fa8"
MISSED = "#d62728"
EDGE_COLORS = {
    "normal": "#444444",
    "internal": "#888888",
    "done": "#2a7d2a",
    "dispatch": "#555555",
    "resume": "#7b4fa3",
    "regress": "#c25400",
}


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _fmt(key: str, value: str | int | float) -> str:
    if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
        return f"{key}={value}"  # an HTML-like label
    if isinstance(value, str):
        return f"{key}={_q(value)}"
    return f"{key}={value}"


def _attrs(**kv: str | int | float | None) -> str:
    return "[" + ", ".join(_fmt(k, v) for k, v in kv.items() if v is not None) + "]"


def _stmts(indent: str, **kv: str | int | float | None) -> list[str]:
    """Graph or cluster attributes as ``key=value;`` statements."""
    return [f"{indent}{_fmt(k, v)};" for k, v in kv.items() if v is not None]


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _wrap_label(label: str) -> str:
    """``event [g1 & g2]`` -> event, then one guard per line."""
    if " [" not in label:
        return label
    event, guards = label.split(" [", 1)
    parts = guards.rstrip("]").split(" & ")
    lines = [event] if event else []
    lines += [
        f"[{p}]" if len(parts) == 1 else f"{'[' if k == 0 else '&'}{p}" for k, p in enumerate(parts)
    ]
    if len(parts) > 1:
        lines[-1] += "]"
    return "\n".join(lines)


def _internal_rows(internal: Sequence[DrawnEdge], coverage: Coverage | None) -> str:
    """Internal transitions as lines of the state's box (UML internal activities).

    Each line carries the row's id (``t<row>``), as an edge would.
    """
    lines: list[str] = []
    for e in internal:
        text = _e(e.label.replace(" [", " [", 1)) + " ⟲"
        color = EDGE_COLORS["internal"]
        if coverage is not None:
            n = coverage.edge_count(e.row, None)
            text += f" x{n}"
            color = "#2a7d2a" if n else MISSED
        lines.append(
            f'<tr><td align="left" id="{e.id}" tooltip="{_e(e.label)} (internal)">'
            f'<font point-size="8" color="{color}">{text}</font></td></tr>'
        )
    return "".join(lines)


def _state_label(
    chart: Chart,
    s: StateDef,
    live: LiveState | None,
    count: int | None,
    internal: Sequence[DrawnEdge] = (),
    coverage: Coverage | None = None,
) -> str:
    name = f"<b>{_e(short_name(s))}</b>"
    if count is not None:
        name += f' <font point-size="8" color="#666666">x{count}</font>'
    rows = [f"<tr><td>{name}</td></tr>"]
    tools = state_tools(chart, s)
    if tools:
        listed = "<br/>".join(_e(t) + "()" for t in tools)
        rows.append(f'<tr><td><font point-size="8" color="{TOOL_COLOR}">{listed}</font></td></tr>')
    if internal:
        rows.append(_internal_rows(internal, coverage))
    if live is not None and s.id in live.active and s.kind == "atomic":
        rows.append('<tr><td><font point-size="8" color="#8a5a00">● active</font></td></tr>')
    return (
        '<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
        + "".join(rows)
        + "</table>>"
    )


def _cluster_label(chart: Chart, index: int, task: str, live: LiveState | None) -> str:
    spec = chart.task_map[task]
    title = f"<b>{index}. {_e(task)}</b>"
    if spec.kind == "implicit":
        title += ' <font point-size="9">(hand-written)</font>'
    lines = [title]
    if spec.description:
        lines.append(f'<font point-size="9">{_e(spec.description)}</font>')
    if spec.fields:
        collected = set(live.fields.get(task, ())) if live is not None else set()
        marks = []
        for f in spec.fields:
            if f.name in collected:
                marks.append(f"✓ {_e(f.name)} = ▒▒▒")  # values are never drawn
            elif live is not None:
                marks.append(f"○ {_e(f.name)}")
            else:
                marks.append(_e(f.name))
        lines.append('<font point-size="9" color="#555555">fields: ' + ", ".join(marks) + "</font>")
    return "<" + "".join(line + '<br align="left"/>' for line in lines) + ">"


def to_dot(chart: Chart, *, snapshot: Shown = None, coverage: Coverage | None = None) -> str:
    """DOT source of ``chart``; highlight a runtime snapshot and/or colour by coverage."""
    live = LiveState.of(snapshot)
    by_task: dict[str, list[StateDef]] = {t.id: [] for t in chart.tasks}
    top: list[StateDef] = []
    for s in chart.states:
        if s.task is None:
            top.append(s)
        elif s.kind != "compound":
            by_task[s.task].append(s)
    title = chart.name
    if title.startswith("Flow_"):  # an unnamed chart: name it by its tasks
        title = " → ".join(t.id for t in chart.tasks)
    if coverage is not None:
        title += (
            f"\ncoverage: states {coverage.states_covered}/{coverage.states_total}, "
            f"transitions {coverage.transitions_covered}/{coverage.transitions_total} "
            f"({coverage.percent:.1f}%) · red dashed = never taken"
        )
    out = [
        f"digraph {_q(chart.name)} {{",
        *_stmts(
            "  ",
            rankdir="LR",
            compound="true",
            newrank="true",
            nodesep=0.3,
            ranksep=0.55,
            fontname=FONT,
            fontsize=12,
            labelloc="t",
            label=title,
        ),
        "  "
        + "node "
        + _attrs(
            shape="box",
            style="rounded,filled",
            fillcolor="white",
            fontname=FONT,
            fontsize=11,
            margin="0.12,0.06",
        )
        + ";",
        "  " + "edge " + _attrs(fontname=FONT, fontsize=9, arrowsize=0.7) + ";",
        '  __start [shape=point, width=0.15, label=""];',
    ]

    edges = drawn_edges(chart)
    internal: dict[str, list[DrawnEdge]] = {}
    for e in edges:
        if e.kind == "internal":
            internal.setdefault(e.tail, []).append(e)

    def node(s: StateDef, indent: str) -> str:
        count = coverage.states.get(s.id, 0) if coverage is not None else None
        style = "rounded,filled"
        fill = "white"
        color = "#333333"
        pen: float = 1.0
        if live is not None and s.id in live.active:
            fill, color, pen = ACTIVE_FILL, ACTIVE_LINE, 2.5
        elif coverage is not None:
            if count:
                fill = "#e3f4e1"
            else:
                color, style = MISSED, "rounded,filled,dashed"
        if s.kind == "history":
            return f"{indent}{s.id} " + _attrs(
                shape="circle", label="H*", width=0.35, fixedsize="true", fontsize=10,
                style="filled" if fill != "white" else "solid", fillcolor=fill, color=color,
                tooltip=f"{s.task}: deep history",
            ) + ";"  # fmt: skip
        if s.kind == "transient":
            return f"{indent}{s.id} " + _attrs(
                shape="diamond", label="dispatch", fontsize=9, style="filled", fillcolor="#eeeeee"
                if fill == "white" else fill, color=color, tooltip="transient: enters the next task",
            ) + ";"  # fmt: skip
        if s.kind == "final":
            label = short_name(s) if s.task else s.id.replace("_", " ")
            return f"{indent}{s.id} " + _attrs(
                label=label, peripheries=2, style=style, fillcolor=fill, color=color, penwidth=pen,
                fontsize=10,
            ) + ";"  # fmt: skip
        return f"{indent}{s.id} " + _attrs(
            label=_state_label(chart, s, live, count, internal.get(s.id, ()), coverage),
            style=style, fillcolor=fill, color=color,
            penwidth=pen, tooltip=s.id,
        ) + ";"  # fmt: skip

    for i, spec in enumerate(chart.tasks, 1):
        active = live is not None and spec.id in live.active
        color = ACTIVE_LINE if active else "#9aa5b1"
        if live is not None and spec.id in live.done:
            color = "#2a7d2a"
        elif live is not None and spec.id in live.failed:
            color = MISSED
        out.append(f"  subgraph cluster_{spec.id} {{")
        out.extend(
            _stmts(
                "    ",
                label=_cluster_label(chart, i, spec.id, live),
                style="rounded,filled",
                fillcolor="#fff8e1" if active else "#f6f8fa",
                color=color,
                penwidth=2.5 if active else 1.2,
                labeljust="r",
                fontname=FONT,
                fontsize=12,
                margin=10,
            )
        )
        for s in by_task[spec.id]:
            out.append(node(s, "    "))
        if f"{spec.id}__h" in chart.state_map:  # the history's default entry: a fresh start
            out.append(
                f"    {spec.id}__h -> {initial_leaf(chart, spec.id)} "
                + _attrs(
                    style="dotted", arrowhead="vee", color="#999999", tooltip="history default"
                )
                + ";"
            )
        out.append("  }")
    for s in top:
        out.append(node(s, "  "))
    out.append("  { rank=same; flow_done; flow_failed; }")
    out.append("  __start -> dispatch;")
    for group in _bundled(e for e in edges if e.kind != "internal"):
        out.append("  " + _edge(group, coverage))
    out.append("}")
    return "\n".join(out) + "\n"


def _bundled(edges: Iterable[DrawnEdge]) -> list[list[DrawnEdge]]:
    """The edges to draw, in order; edges from one task's box to another's, of one
    kind, are bundled into the first one's place."""
    groups: list[list[DrawnEdge]] = []
    between: dict[tuple[str, str, str], list[DrawnEdge]] = {}
    for e in edges:
        if e.tail_cluster is None or e.head_cluster is None or e.kind == "regress":
            groups.append([e])
            continue
        key = (e.tail_cluster, e.head_cluster, e.kind)
        if key in between:
            between[key].append(e)
        else:
            groups.append(between.setdefault(key, [e]))
    return groups


def _edge(group: Sequence[DrawnEdge], coverage: Coverage | None) -> str:
    e = group[0]
    color = EDGE_COLORS[e.kind]
    style = {"internal": "dashed", "regress": "dashed", "resume": "dashed"}.get(e.kind, "solid")
    labels = [_wrap_label(x.label) for x in group]
    pen = 1.0
    if e.kind == "internal":
        labels = [label + "\n(internal)" for label in labels]
    if coverage is not None:
        counts = [
            coverage.edge_count(x.row, x.head_cluster if x.kind == "regress" else None)
            for x in group
        ]
        labels = [f"{lb}\nx{n}" if lb else f"x{n}" for lb, n in zip(labels, counts, strict=True)]
        if all(counts):
            n = sum(counts)
            color, pen = "#2a7d2a", round(1.0 + min(3.0, math.log2(1 + n)), 2)
        else:  # a bundle with a row never taken is drawn as missed
            color, style = MISSED, "dashed"
    label = "\n".join(labels)
    constraint = "false" if e.kind in ("regress", "resume") else None
    return f"{e.tail} -> {e.head} " + _attrs(
        id="+".join(x.id for x in group),
        label=label,
        color=color,
        fontcolor=color,
        style=style,
        penwidth=pen,
        ltail=f"cluster_{e.tail_cluster}" if e.tail_cluster else None,
        lhead=f"cluster_{e.head_cluster}" if e.head_cluster else None,
        constraint=constraint,
        tooltip="; ".join(x.label for x in group) or "eventless",
    ) + ";"  # fmt: skip
