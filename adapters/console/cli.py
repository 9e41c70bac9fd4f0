"""The ``taskchart`` command line: ``demo`` here, ``check``/``replay`` and ``diagram``/``coverage``
registered from their own modules.

Rules of this file: a command parses its options, refuses what cannot work
before anything runs (a script that is not UTF-8 text, a journal path that
cannot be written) with one line on stderr and exit status 2, and leaves the
work to the runtime and the console runners. Exit status: 0 when the flow
ended, 1 when it did not, 130 when the user interrupted it.

Theory of operation: ``demo`` plays the interview chart through
:class:`~taskchart.adapters.console.runner.ConsoleRunner`, whose rule-based
stand-in for the model (:mod:`.nlu`) turns each typed line into tool calls;
``--flow``/``--bank`` play a phone chart through the keypad runner instead
(typed digits are tones, an empty line is silence). Lines come from
``--script``, the terminal or a pipe, and ``--journal`` writes the event log
that ``taskchart replay`` and ``taskchart coverage`` read.

    taskchart demo --script examples/interview_script.txt --quiet
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from taskchart.runtime.replay import dump_journal
from taskchart.runtime.sealing import keys_from_env

from .commands import register as register_flow_commands
from .diagram_commands import register as register_diagram_commands
from .interview import interview_chart
from .runner import ConsoleRunner

#: The flow ``taskchart demo --bank`` plays (its sample call is next to it).
BANK_FLOW = "examples.bank_ivr:bank_ivr_chart"

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Statechart flows for voice agents."
)


register_diagram_commands(app)  # taskchart diagram / taskchart coverage
register_flow_commands(app)  # taskchart check / taskchart replay


def _version(value: bool) -> None:
    if value:
        typer.echo(f"taskchart {_installed_version()}")
        raise typer.Exit(0)


def _installed_version() -> str:
    try:
        return metadata.version("taskchart")
    except metadata.PackageNotFoundError:  # run from a copy that was never installed
        return "(not installed)"


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Statechart flows for voice agents."""


def fail(message: str) -> NoReturn:
    """End the command with one line on stderr and exit status 2 (a usage error)."""
    typer.echo(message, err=True)
    raise typer.Exit(2)


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
            "and `taskchart coverage`. Personal values (the email) are redacted; with "
            "$TASKCHART_KEYS set every line is sealed with those Fernet keys.",
        ),
    ] = None,
    raw_journal: Annotated[
        bool,
        typer.Option(
            "--raw-journal",
            help="Keep what was typed in the journal, unredacted (local debugging only).",
        ),
    ] = False,
    flow: Annotated[
        str | None,
        typer.Option(
            "--flow",
            help="Play this phone flow (module:attribute) instead: typed digits are keypad "
            "tones, '...' or an empty line is silence.",
            metavar="TARGET",
        ),
    ] = None,
    bank: Annotated[
        bool,
        typer.Option(
            "--bank",
            help=f"Play the bank IVR example ({BANK_FLOW}) with its sample call, or with "
            "your lines from --script (run from a checkout: examples/ is not installed).",
        ),
    ] = False,
) -> None:
    """Run the interview flow offline: no LLM, no server, no API key.

    Type as the candidate ("I'm Ada Lovelace, a mathematician", "ada at
    example dot com", "yes", "go back, my name is wrong"); or pipe lines in.
    """
    interactive = script is None and sys.stdin.isatty()
    lines: list[str] | None = None
    if script is not None:
        lines = _script_lines(script)
    if bank:
        flow = BANK_FLOW
        if lines is None:
            lines = _script_lines(_bank_script())
    if flow is not None:
        _keypad_demo(flow, lines, quiet)
    if journal is not None:
        _check_writable(journal)
    runner = ConsoleRunner(
        interview_chart(),
        show_transitions=not quiet,
        echo_user=not interactive,
        record=journal is not None,
    )
    if lines is not None:
        ok = runner.run(lines)
    elif interactive:
        typer.echo("Interview demo. Type as the candidate; 'quit' ends.\n")
        ok = runner.run(_prompted_lines())
    else:
        ok = runner.run(sys.stdin)
    if journal is not None:
        dump_journal(runner.flow, journal, raw_values=raw_journal, keys=keys_from_env())
    raise typer.Exit(130 if runner.interrupted else 0 if ok else 1)


def _bank_script() -> Path:
    """The bank IVR's sample call, next to the example's module."""
    from .targets import TargetError, load_target

    try:
        factory = load_target(BANK_FLOW)
    except TargetError:
        fail("--bank plays examples/bank_ivr.py: run it from a checkout of the repository")
    return Path(str(sys.modules[factory.__module__].__file__)).with_name("bank_ivr_script.txt")


def _keypad_demo(target: str, lines: list[str] | None, quiet: bool) -> None:
    from .keypad import KeypadRunner
    from .targets import load_chart

    try:
        chart = load_chart(target)
    except ValueError as exc:
        fail(f"{target}: {exc}")
    runner = KeypadRunner(chart, show_transitions=not quiet)
    ok = runner.run(lines if lines is not None else sys.stdin)
    raise typer.Exit(0 if ok else 1)


def _script_lines(script: Path) -> list[str]:
    try:
        return script.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        fail(
            f"cannot read script {script}: not UTF-8 text (byte {exc.object[exc.start]:#04x} "
            f"at offset {exc.start}); save it as UTF-8 and try again"
        )
    except OSError as exc:
        fail(f"cannot read script {script}: {exc.strerror or exc}")


def _check_writable(path: Path) -> None:
    """Refuse an output path that cannot be written, before the call starts."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        fail(f"cannot write journal {path}: it is a directory; give a file name")
    if not parent.is_dir():
        fail(f"cannot write journal {path}: folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        fail(f"cannot write journal {path}: permission denied; pick another path")


def _prompted_lines() -> Iterator[str]:
    with contextlib.suppress(ImportError):  # line editing for input(), where there is one
        import readline  # noqa: F401
    while True:
        try:
            yield input("  you > ")
        except EOFError:
            return


def main() -> None:
    """Entry point of the ``taskchart`` console script.

    An error no command foresaw still ends in one line and exit status 2, not
    a traceback (``TASKCHART_DEBUG=1`` shows it).
    """
    try:
        code = app(prog_name="taskchart", standalone_mode=False)
    except typer.Abort:  # Ctrl-C or Ctrl-D at a prompt the command line owns
        typer.echo("", err=True)
        sys.exit(130)
    except Exception as exc:
        if _usage_error(exc):  # a missing argument, an unknown command or option
            ctx = getattr(exc, "ctx", None)
            where = getattr(ctx, "command_path", None) or "taskchart"
            text = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
            typer.echo(f"taskchart: {text} (see {where} --help)", err=True)
            sys.exit(2)
        if os.environ.get("TASKCHART_DEBUG"):
            raise
        text = " ".join(str(exc).split())[:300]
        typer.echo(
            f"taskchart: unexpected {type(exc).__name__}: {text} "
            "(TASKCHART_DEBUG=1 shows the traceback)",
            err=True,
        )
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


def _usage_error(exc: Exception) -> bool:
    """A command-line usage error (click's, as the installed typer ships it)."""
    return getattr(exc, "exit_code", None) == 2 and callable(getattr(exc, "format_message", None))


if __name__ == "__main__":
    main()
