"""``taskchart check`` and ``taskchart replay``: static checks and deterministic replay.

``taskchart check TARGET...`` prints one line per finding and exits 1 when
there is an error (``--strict``: a warning too). ``taskchart replay LOG
--chart TARGET`` re-runs a JSON-lines event log and exits 1 at the first
event whose outcome differs from the recording. A TARGET is
``module:attribute`` naming a Chart, a TaskSpec, a list of specs or a
zero-argument factory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from taskchart.runtime.checks import check_chart
from taskchart.runtime.replay import read_log, replay_flow, split_flows
from taskchart.runtime.sealing import journal_keys
from taskchart.statecharts import Chart
from taskchart.statecharts.fields import shown
from taskchart.statecharts.task import is_modality

from .targets import load_chart

__all__ = ["KEY_FILE", "check", "register", "replay_command"]

#: ``--key-file``: the keys of a sealed journal (else ``TASKCHART_KEYS``).
KEY_FILE = typer.Option(
    "--key-file",
    help="Fernet keys, one a line, that open a sealed journal (default: $TASKCHART_KEYS).",
)


def _chart(target: str) -> Chart:
    try:
        return load_chart(target)
    except ValueError as exc:
        _fail(f"{target}: {exc}")


def check(
    targets: Annotated[
        list[str], typer.Argument(help="Charts to check, as module:attribute.", metavar="TARGET")
    ],
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail the check too.")] = False,
    stored: Annotated[
        str | None,
        typer.Option(
            "--stored",
            metavar="STORE_URL",
            help="Also list the store's running flows (sqlite:///path, redis://...) and "
            "whether this chart can resume each; one that cannot fails the check.",
        ),
    ] = None,
    app_version: Annotated[
        int, typer.Option("--app-version", help="The application version (for --stored).")
    ] = 1,
) -> None:
    """Check charts statically: one line per finding; exit 1 on an error.

    Errors: unreachable states, dead ends, unknown states/tasks/guards/fields,
    eventless loops, timeouts or no-matches that re-prompt without a limit,
    double completion, rows that never fire, exits naming no task. Warnings
    (fail only with --strict): collect/confirm states the caller cannot
    decline and that no timer ends, tools no state accepts, and keypad steps
    with no no-input and no no-match handling (no-handler: only keypad steps,
    since a spoken step's silence is often the model's to handle).
    """
    failed = False
    for target in targets:
        chart = _chart(target)
        findings = check_chart(chart)
        for finding in findings:
            typer.echo(f"{target}: {finding}")
        errors = sum(f.severity == "error" for f in findings)
        warnings = len(findings) - errors
        if errors or (strict and warnings):
            failed = True
        if not findings:
            typer.echo(f"{target}: ok ({len(chart.states)} states, {len(chart.transitions)} rows)")
        if stored is not None:
            from .stored import stored_report

            lines, resumable = stored_report(stored, chart, version=app_version)
            for line in lines:
                typer.echo(f"{target}: stored {line}")
            failed = failed or not resumable
    raise typer.Exit(1 if failed else 0)


def _plain(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except TypeError:
        return repr(value)


def replay_command(
    log: Annotated[Path, typer.Argument(help="JSON-lines event log (Interpreter journal).")],
    chart_target: Annotated[
        str, typer.Option("--chart", "-c", help="The chart, as module:attribute.")
    ],
    modality: Annotated[
        str | None, typer.Option(help="Starting modality (default: the log header, or text).")
    ] = None,
    flow_number: Annotated[
        int | None,
        typer.Option(
            "--flow",
            min=1,
            help="Replay only the Nth flow of a file that holds several (the pytest "
            "plugin's journals); by default every flow is replayed.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the outcome.")] = False,
    key_file: Annotated[Path | None, KEY_FILE] = None,
) -> None:
    """Re-run a recorded event log against a chart, with no LLM.

    Prints every transition and the final state and results; exits 1 naming
    the first event whose outcome differs from the recording. A file of
    several flows is replayed flow by flow, one line each (--flow N: that
    flow in full).
    """
    chart = _chart(chart_target)
    try:
        if modality is not None and not is_modality(modality):
            raise ValueError(f"modality must be 'text' or 'audio', got {shown(modality, 40)}")
        flows = split_flows(read_log(log, keys=journal_keys(key_file)))
        if flow_number is not None and flow_number > len(flows):
            raise ValueError(
                f"holds {len(flows)} flow(s), so there is no flow {flow_number}: "
                f"pick --flow 1 to {len(flows)}"
            )
        if flow_number is not None:
            flows = [flows[flow_number - 1]]
        reports = [replay_flow(chart, one, modality=modality) for one in flows]
    except UnicodeDecodeError:
        _fail(f"{log}: not a journal (not UTF-8 text); give a file written by dump_journal()")
    except (OSError, ValueError) as exc:
        _fail(f"{log}: {getattr(exc, 'strerror', None) or exc}")
    if len(reports) > 1:
        diverged = 0
        for number, (one, report) in enumerate(zip(flows, reports, strict=True), 1):
            outcome = f"DIVERGED {report.divergence}" if report.divergence else "ok"
            typer.echo(
                f"flow {number} (line {one.line}): {outcome}; final "
                f"{'/'.join(report.configuration)}"
            )
            diverged += report.divergence is not None
        typer.echo(f"{len(reports)} flows, {diverged} diverged")
        raise typer.Exit(1 if diverged else 0)
    report = reports[0]
    if not quiet:
        for step in report.steps:
            kind = step.event.get("type", "?")
            name = step.event.get("name") or step.event.get("timer_id") or ""
            head = f"#{step.index} {kind} {name}".rstrip()
            if not step.ok:
                typer.echo(f"{head}: refused ({step.code})")
            elif step.source is not None and step.target is not None:
                typer.echo(
                    f"{head}: {step.trigger} {'/'.join(step.source)} -> {'/'.join(step.target)}"
                )
            else:
                typer.echo(f"{head}: accepted")
    typer.echo(f"final: {'/'.join(report.configuration)}")
    results = {k: _plain(repr(v)) for k, v in report.results.items()}
    typer.echo(f"results: {json.dumps(results, ensure_ascii=False)}")
    if report.divergence is not None:
        typer.echo(f"DIVERGED {report.divergence}", err=True)
        raise typer.Exit(1)
    raise typer.Exit(0)


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add ``check`` and ``replay`` to the ``taskchart`` command line."""
    app.command("check")(check)
    app.command("replay")(replay_command)
