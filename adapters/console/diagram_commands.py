"""``taskchart diagram`` and ``taskchart coverage``: registered on the console app by
:func:`register`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from taskchart.diagrams.coverage import Coverage
from taskchart.diagrams.render import GraphvizNotFoundError, render
from taskchart.runtime.sealing import Sealer, journal_keys
from taskchart.runtime.snapshots import SnapshotError, check_snapshot
from taskchart.statecharts import Chart

from .commands import KEY_FILE
from .targets import TargetError, load_chart

__all__ = ["coverage", "diagram", "register"]


def diagram(
    target: Annotated[
        str,
        typer.Argument(
            help="module:attribute naming a chart, task(s), task class, TaskGroup or factory."
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write (.dot .svg .png .pdf .mmd .md).")
    ],
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="dot, svg, png, pdf, mermaid or markdown.")
    ] = None,
    snapshot: Annotated[
        Path | None, typer.Option("--snapshot", help="Highlight a runtime snapshot (JSON).")
    ] = None,
    logs: Annotated[
        list[Path] | None,
        typer.Option("--logs", help="Colour transitions by these JSON-lines logs."),
    ] = None,
) -> None:
    """Draw a flow: states, transitions, guards, tools, history and regression edges."""
    try:
        chart = load_chart(target)
        snap = _snapshot_of(chart, snapshot) if snapshot else None
        cov = Coverage.from_files(chart, logs) if logs else None
        render(chart, output, format, snapshot=snap, coverage=cov)
    except (TargetError, GraphvizNotFoundError, ValueError, OSError) as exc:
        typer.echo(f"taskchart diagram: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"wrote {output}")


def _snapshot_of(chart: Chart, path: Path) -> Any:
    """The snapshot at ``path``, checked against ``chart`` as ``restore()`` checks it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read snapshot {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"{path} is not a JSON snapshot ({exc}); write one with dump_snapshot()"
        ) from None
    try:
        check_snapshot(chart, data)
    except SnapshotError as exc:
        raise ValueError(f"{path} is not a snapshot of this chart: {exc}") from None
    return data


def coverage(
    logs: Annotated[
        list[Path],
        typer.Argument(
            help="JSON-lines event logs (Interpreter journals), or directories of them "
            "(TASKCHART_JOURNALS of a test run): the chart's own file is read."
        ),
    ],
    chart_target: Annotated[str, typer.Option("--chart", help="module:attribute of the chart.")],
    fail_under: Annotated[
        float | None, typer.Option("--fail-under", help="Exit 1 when total coverage % is below N.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also draw the coverage overlay here.")
    ] = None,
    key_file: Annotated[Path | None, KEY_FILE] = None,
) -> None:
    """Print the share of states and transitions the logs went through."""
    try:
        chart = load_chart(chart_target)
        keys = journal_keys(key_file)
        unseal = Sealer(keys).unseal if keys else None
        cov = Coverage.from_files(chart, [_journal_of(chart, p) for p in logs], unseal=unseal)
        if output is not None:
            render(chart, output, coverage=cov)
    except (TargetError, GraphvizNotFoundError, ValueError, OSError) as exc:
        typer.echo(f"taskchart coverage: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(cov.report())
    if fail_under is not None and cov.percent < fail_under:
        typer.echo(f"FAIL: total coverage {cov.percent:.1f}% is below {fail_under:g}%", err=True)
        raise typer.Exit(1)


def _journal_of(chart: Any, path: Path) -> Path:
    if not path.is_dir():
        return path
    found = path / f"{chart.digest}.jsonl"
    if not found.exists():
        raise ValueError(f"{path} holds no journal of this chart (looked for {found.name})")
    return found


def register(app: typer.Typer) -> None:
    """Add the ``diagram`` and ``coverage`` commands to a typer app."""
    app.command("diagram")(diagram)
    app.command("coverage")(coverage)
