"""The ``taskchart`` command line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from taskchart.runtime.replay import dump_journal

from .commands import register as register_flow_commands
from .diagram_commands import register as register_diagram_commands
from .interview import interview_chart
from .runner import ConsoleRunner

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Statechart flows for voice agents."
)


register_diagram_commands(app)  # taskchart diagram / taskchart coverage
register_flow_commands(app)  # taskchart check / taskchart replay


@app.callback()
def _root() -> None:
    """Statechart flows for voice agents."""


@app.command()
def demo(
    script: Annotated[
        Path | None,
        typer.Option("--script", "-s", help="Read user lines from FILE instead of the terminal."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Hide transitions; show only the dialogue.")
    ] = False,
    journal: Annotated[
        Path | None,
        typer.Option(
            "--journal",
            help="Write the event log (JSON lines, mode 0600) to FILE, for `taskchart replay` "
            "and `taskchart coverage`. Personal values (the email) are redacted.",
        ),
    ] = None,
    raw_journal: Annotated[
        bool,
        typer.Option(
            "--raw-journal",
            help="Keep what was typed in the journal, unredacted (local debugging only).",
        ),
    ] = False,
) -> None:
    """Run the interview flow offline: no LLM, no server, no API key.

    Type as the candidate ("I'm Ada Lovelace, a mathematician", "ada at
    example dot com", "yes", "go back, my name is wrong"); or pipe lines in.
    """
    interactive = script is None and sys.stdin.isatty()
    runner = ConsoleRunner(
        interview_chart(),
        show_transitions=not quiet,
        echo_user=not interactive,
        record=journal is not None,
    )
    if script is not None:
        try:
            lines = script.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            typer.echo(f"cannot read script {script}: {exc.strerror or exc}", err=True)
            raise typer.Exit(2) from exc
        ok = runner.run(lines)
    elif interactive:
        typer.echo("Interview demo. Type as the candidate; 'quit' ends.\n")
        ok = runner.run(_prompted_lines())
    else:
        ok = runner.run(sys.stdin)
    if journal is not None:
        dump_journal(runner.flow, journal, raw_values=raw_journal)
    raise typer.Exit(0 if ok else 1)


def _prompted_lines() -> Iterator[str]:
    while True:
        try:
            yield input("  you > ")
        except EOFError:
            return


def main() -> None:
    """Entry point of the ``taskchart`` console script."""
    app()


if __name__ == "__main__":
    main()
