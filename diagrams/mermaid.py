"""Mermaid ``stateDiagram-v2`` text of a chart (renders on GitHub and GitLab).

The same content as the DOT picture: one composite state per task, in
order, its history as ``H*`` (every task's but the first's), finals,
``dispatch`` as a choice, the tools offered in each state, and the
regression edges to earlier tasks.

>>> from taskchart.statecharts import Field, declarative_task, compile_chart
>>> text = to_mermaid(compile_chart(declarative_task("name", fields=[Field("name")])))
>>> text.splitlines()[0]
'stateDiagram-v2'
"""

from __future__ import annotations

import re

from taskchart.statecharts import Chart

from .coverage import Coverage
from .model import LiveState, Shown, drawn_edges, initial_leaf, short_name, state_tools

__all__ = ["to_mermaid"]


def _text(label: str) -> str:
    # ':' and ';' end a Mermaid statement; '#' starts an entity code; '"' ends a label.
    return label.replace(";", ",").replace(":", " ").replace("#", "").replace('"', "'")


_PLAIN_ID = re.compile(r"[A-Za-z0-9_]+")


def _id(state_id: str) -> str:
    """A state id Mermaid's lexer takes: ASCII letters, digits and ``_`` (others as ``_xHEX_``).

    Task ids are Python identifiers, which may be non-ASCII (``über``); the
    label keeps the real name.
    """
    if _PLAIN_ID.fullmatch(state_id):
        return state_id
    return "".join(c if _PLAIN_ID.fullmatch(c) else f"_x{ord(c):x}_" for c in state_id)


def to_mermaid(chart: Chart, *, snapshot: Shown = None, coverage: Coverage | None = None) -> str:
    """Mermaid source of ``chart``; mark the live configuration and never-taken transitions."""
    live = LiveState.of(snapshot)
    out = ["stateDiagram-v2", "    direction LR"]
    out.append("    classDef active fill:#ffe08a,stroke:#b8860b,stroke-width:3px")
    out.append("    classDef final fill:#ffffff,stroke:#333333,stroke-width:3px")
    out.append("    classDef missed stroke:#d62728,stroke-dasharray:4 3")
    out.append("    state dispatch <<choice>>")
    out.append("    [*] --> dispatch")
    classes: dict[str, list[str]] = {"active": [], "final": [], "missed": []}
    for i, spec in enumerate(chart.tasks, 1):
        title = f"{i}. {spec.id}" + (" (hand-written)" if spec.kind == "implicit" else "")
        out.append(f'    state "{_text(title)}" as {_id(spec.id)} {{')
        for s in chart.states:
            if s.task != spec.id or s.kind == "compound":
                continue
            out.append(f'        state "{_text(short_name(s))}" as {_id(s.id)}')
            tools = state_tools(chart, s)
            if tools:
                out.append(f"        {_id(s.id)} : tools {_text(', '.join(tools))}")
            if s.kind == "final":
                classes["final"].append(s.id)
        first = _id(initial_leaf(chart, spec.id))
        if f"{spec.id}__h" in chart.state_map:  # the first task has none: never resumed
            out.append(f"        {_id(spec.id + '__h')} --> {first}")
        if spec.fields:
            fields = [f.name for f in spec.fields]
            if live is not None:
                got = set(live.fields.get(spec.id, ()))
                fields = [f"{f} ✓" if f in got else f for f in fields]
            out.append(f"        note right of {first}")
            out.append(f"            fields {_text(', '.join(fields))}")
            out.append("        end note")
        out.append("    }")
    for sid in ("flow_done", "flow_failed"):
        out.append(f'    state "{sid.replace("_", " ")}" as {sid}')
        classes["final"].append(sid)
    for e in drawn_edges(chart):
        tail = e.tail_cluster or e.tail
        head = e.head_cluster or e.head
        label = e.label + (" (internal)" if e.kind == "internal" else "")
        if coverage is not None:
            n = coverage.edge_count(e.row, e.head_cluster if e.kind == "regress" else None)
            label = f"{label} x{n}".strip()
        out.append(f"    {_id(tail)} --> {_id(head)}" + (f" : {_text(label)}" if label else ""))
    out.append("    flow_done --> [*]")
    out.append("    flow_failed --> [*]")
    if live is not None:
        classes["active"] = [s for s in sorted(live.active) if s in chart.state_ids]
    if coverage is not None:
        classes["missed"] = coverage.never_entered()
    for name, ids in classes.items():
        ids = [i for i in ids if not (name == "final" and live is not None and i in live.active)]
        if ids:
            out.append(f"    class {','.join(map(_id, ids))} {name}")
    return "\n".join(out) + "\n"
