"""Diagrams of the interview chart: golden text, real Graphviz, parse-back, live state, coverage."""

from __future__ import annotations

import importlib
import json
import re
import shutil
from pathlib import Path

import pydot
import pytest
from syrupy.assertion import SnapshotAssertion
from taskchart.adapters.console.cli import app
from taskchart.adapters.console.targets import load_chart
from taskchart.diagrams import (
    Coverage,
    GraphvizNotFoundError,
    read_journals,
    render,
    to_dot,
    to_mermaid,
)
from taskchart.diagrams.model import drawn_edges
from taskchart.runtime.replay import dump_journal
from taskchart.runtime.snapshots import snapshot
from taskchart.statecharts import Chart
from typer.testing import CliRunner

from examples import generate_diagrams as gen

from .conftest import run_interview

render_module = importlib.import_module("taskchart.diagrams.render")  # `render` is the function
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def test_dot_text_is_golden(chart: Chart, snapshot: SnapshotAssertion) -> None:
    assert to_dot(chart) == snapshot


def test_mermaid_text_is_golden(chart: Chart, snapshot: SnapshotAssertion) -> None:
    assert to_mermaid(chart) == snapshot


@needs_dot
def test_svg_from_real_dot_contains_every_state(chart: Chart, tmp_path: Path) -> None:
    svg = render(chart, tmp_path / "flow.svg").read_text(encoding="utf-8")
    titles = set(re.findall(r"<title>([^<]+)</title>", svg))
    for s in chart.states:
        if s.kind == "compound":
            assert f"cluster_{s.id}" in titles
        else:
            assert s.id in titles, s.id
    # each task's tools are drawn in its states
    for spec in chart.tasks:
        for tool in spec.tools:
            if tool.event != "decline" or spec.id == "email_task":
                assert f"{tool.name}()" in svg


def assert_every_row_is_drawn(chart: Chart) -> None:
    """Every table row is an edge, or (internal rows) a line with its id in its state's box."""
    (graph,) = pydot.graph_from_dot_data(to_dot(chart))
    edges = [e for e in graph.get_edges() if e.get("id")]
    by_row: dict[int, list[pydot.Edge]] = {}
    for e in edges:
        for one in e.get("id").strip('"').split("+"):  # edges between two tasks are bundled
            by_row.setdefault(int(one[1:].split("_", 1)[0]), []).append(e)
    labels = {n.get_name(): n.get("label") or "" for n in _nodes(graph)}
    clusters = {f"cluster_{t.id}": t.id for t in chart.tasks}
    order = [t.id for t in chart.tasks]
    for i, r in enumerate(chart.transitions):
        if r.internal:
            assert i not in by_row and f'id="t{i}"' in labels[r.source], (i, r)
            continue
        for e in by_row[i]:
            tail = clusters.get((e.get("ltail") or "").strip('"'), e.get_source())
            head = clusters.get((e.get("lhead") or "").strip('"'), e.get_destination())
            assert tail == r.source
            if r.event == "regress":  # drawn to each earlier task
                assert head in order[: order.index(r.source)]
            else:
                assert head == r.target
        if r.event == "regress":
            assert len(by_row[i]) == order.index(r.source)


def _nodes(graph: pydot.Dot) -> list[pydot.Node]:
    nodes = list(graph.get_nodes())
    for sub in graph.get_subgraphs():
        nodes += _nodes(sub)
    return nodes


def test_every_transition_is_an_edge_after_parse_back(chart: Chart) -> None:
    assert_every_row_is_drawn(chart)


def test_regression_edges_go_to_every_earlier_task(chart: Chart) -> None:
    regress = [(e.tail_cluster, e.head_cluster) for e in drawn_edges(chart) if e.kind == "regress"]
    assert regress == [
        ("email_task", "intro_task"),
        ("commute_task", "intro_task"),
        ("commute_task", "email_task"),
    ]


def test_live_state_highlights_configuration_and_redacts_values(chart: Chart) -> None:
    flow = run_interview(chart, finish=False)
    snap = json.loads(json.dumps(snapshot(flow)))
    assert snap["configuration"] == ["commute_task", "commute_task__collecting"]
    dot = to_dot(chart, snapshot=snap)
    active = re.search(r"^\s*commute_task__collecting \[(.*)\];$", dot, re.M)
    assert active and "#ffe08a" in active.group(1) and "active" in active.group(1)
    idle = re.search(r"^\s*intro_task__collecting \[(.*)\];$", dot, re.M)
    assert idle and "#ffe08a" not in idle.group(1)
    assert "✓ email_address" in dot and "✓ name" in dot
    for value in ("ada.l@example.com", "ada@example.com", "Ada", "mathematician"):
        assert value not in dot
        assert value not in to_mermaid(chart, snapshot=snap)
    assert "class commute_task,commute_task__collecting active" in to_mermaid(chart, snapshot=snap)


def test_coverage_of_a_recorded_journal(chart: Chart, tmp_path: Path) -> None:
    log = tmp_path / "flows.jsonl"
    dump_journal(run_interview(chart), log, append=True)
    dump_journal(run_interview(chart, finish=False), log, append=True)
    journals = read_journals(log)
    assert len(journals) == 2 and len(journals[0]) == 10
    cov = Coverage.from_files(chart, [log])
    table = chart.transitions

    def row(source: str, target: str, event: str | None) -> int:
        return next(
            i
            for i, r in enumerate(table)
            if (r.source, r.target, r.event) == (source, target, event)
        )

    rows = cov.rows
    assert rows[row("email_task__confirming", "email_task__collecting", "correct")] == 2
    assert rows[row("commute_task", "dispatch", "regress")] == 1
    assert rows[row("dispatch", "commute_task__h", None)] == 1  # resumed after the correction
    assert rows[row("dispatch", "intro_task", None)] == 3  # start twice, regression once
    assert rows[row("dispatch", "flow_done", None)] == 1
    assert row("dispatch", "flow_failed", None) in cov.never_taken()
    assert "email_task__declined" in cov.never_entered()
    assert cov.states["commute_task__h"] == 1
    assert (cov.transitions_covered, cov.transitions_total) == (14, 26)
    assert (cov.states_covered, cov.states_total) == (13, 19)
    dot = to_dot(chart, coverage=cov)
    assert "transitions 14/26" in dot and "#d62728" in dot
    report = cov.report()
    assert "53.8%" in report and "dispatch -> flow_failed" in report


def test_coverage_cli_prints_and_fails_under(chart: Chart, tmp_path: Path) -> None:
    log = tmp_path / "flow.jsonl"
    dump_journal(run_interview(chart), log, append=True)
    target = "taskchart.adapters.console.interview:interview_chart"
    ok = CliRunner().invoke(app, ["coverage", str(log), "--chart", target, "--fail-under", "40"])
    assert ok.exit_code == 0, ok.output
    assert "transitions    14/26" in ok.output
    low = CliRunner().invoke(app, ["coverage", str(log), "--chart", target, "--fail-under", "90"])
    assert low.exit_code == 1


@pytest.mark.parametrize("suffix", [".dot", ".mmd", ".md", ".svg", ".png"])
def test_diagram_cli_writes_each_format(suffix: str, tmp_path: Path) -> None:
    if suffix in (".svg", ".png") and shutil.which("dot") is None:
        pytest.skip("Graphviz dot not installed")
    out = tmp_path / f"flow{suffix}"
    result = CliRunner().invoke(app, ["diagram", "examples.interview:build_group", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(
        {
            ".dot": b"digraph",
            ".mmd": b"stateDiagram",
            ".md": b"```mermaid",
            ".svg": b"<?xml",
            ".png": b"\x89PNG",
        }[suffix]
    )


def test_missing_dot_names_the_program(
    chart: Chart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(render_module, "PURE", "no-such-graphviz")  # nor pip's build
    with pytest.raises(GraphvizNotFoundError, match="'dot'"):
        render(chart, tmp_path / "flow.svg")
    render(chart, tmp_path / "flow.dot")  # text formats still work
    render(chart, tmp_path / "flow.mmd")
    result = CliRunner().invoke(
        app, ["diagram", "examples.interview:build_group", "-o", str(tmp_path / "x.png")]
    )
    assert result.exit_code == 2 and "Graphviz program 'dot'" in result.output


def test_targets_task_class_group_and_bad_target() -> None:
    group = load_chart("examples.interview:build_group")
    assert [(t.id, [x.name for x in t.tools]) for t in group.tasks] == [
        ("intro_task", ["record_intro"]),
        ("commute_task", ["record_commute_flexibility"]),
    ]
    task = load_chart("examples.interview:CommuteTask")
    assert [x.name for x in task.tasks[0].tools] == ["record_commute_flexibility"]
    result = CliRunner().invoke(app, ["diagram", "examples.interview", "-o", "x.dot"])
    assert result.exit_code == 2 and "module:attribute" in result.output


def test_generated_diagrams_are_up_to_date() -> None:
    assert gen.stale() == [], "run: python -m examples.generate_diagrams"


def test_regression_coverage_is_counted_per_target(chart: Chart) -> None:
    cov = Coverage.from_journals(chart, [run_interview(chart).journal or []])
    regress = next(
        i
        for i, r in enumerate(chart.transitions)
        if r.source == "commute_task" and r.event == "regress"
    )
    assert cov.edge_count(regress, "intro_task") == 1
    assert cov.edge_count(regress, "email_task") == 0
    (graph,) = pydot.graph_from_dot_data(to_dot(chart, coverage=cov))
    colors = {
        e.get("id").strip('"'): e.get("color").strip('"') for e in graph.get_edges() if e.get("id")
    }
    assert colors[f"t{regress}_intro_task"] != colors[f"t{regress}_email_task"] == "#d62728"


def test_readme_embeds_the_current_mermaid_of_the_interview_group() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    mermaid = (root / "diagrams" / "generated" / "interview_group.mmd").read_text(encoding="utf-8")
    assert f"```mermaid\n{mermaid.rstrip()}\n```" in readme, (
        "README's Mermaid block is out of date: paste diagrams/generated/interview_group.mmd"
    )


@needs_dot
def test_graphviz_lays_out_a_routed_menu_flow(tmp_path: Path) -> None:
    """Parallel edges between two tasks (an option and the exits, all to the operator) made
    ``dot`` abort in ``makeCompoundEdge``; they are one edge now, listing every label."""
    from examples.bank_ivr import bank_ivr_chart

    chart = bank_ivr_chart()
    svg = render(chart, tmp_path / "bank.svg").read_text(encoding="utf-8")
    titles = set(re.findall(r"<title>([^<]+)</title>", svg))
    assert {f"cluster_{t.id}" for t in chart.tasks} <= titles
    bundled = [e for e in re.findall(r'id="(t[0-9+t]+)"', to_dot(chart)) if "+" in e]
    assert len(bundled) == 5  # each authentication step and each menu: to the operator
    assert "done\n[0]\nno_input exit\nno_match exit" in to_dot(chart).replace("\\n", "\n")
    assert_every_row_is_drawn(chart)
