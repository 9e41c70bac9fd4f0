"""The console demo: `taskchart demo` completes the interview, with a correction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from taskchart.adapters.console.cli import app
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "interview_script.txt"
EXPECTED = {
    "intro_task": {"name": "Augusta Ada King", "intro": "a mathematician and writer"},
    "email_task": {"email_address": "ada_lovelace@example.org"},
    "commute_task": {"can_commute": True, "commute_method": "train"},
}


def results_of(output: str) -> dict[str, object]:
    return json.loads(output.split("\nresults:\n", 1)[1])  # type: ignore[no-any-return]


def test_demo_script_completes_with_a_regression_and_an_email_correction() -> None:
    result = CliRunner().invoke(app, ["demo", "--script", str(SCRIPT)])
    assert result.exit_code == 0, result.output
    assert results_of(result.output) == EXPECTED
    out = result.output
    assert "↺ back to intro_task" in out
    assert "commute_task resumed" in out
    assert "email_task__confirming → email_task__confirming" in out  # the correction
    assert "ada.lovelace@example.com" in out  # read back before the correction


def test_demo_reads_stdin_as_a_real_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "taskchart.adapters.console.cli", "demo"],
        input=SCRIPT.read_text(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert results_of(proc.stdout) == EXPECTED


def test_demo_that_ends_early_exits_1_and_keeps_what_was_collected() -> None:
    result = CliRunner().invoke(app, ["demo", "-q"], input="I'm Ada Lovelace, a mathematician\n")
    assert result.exit_code == 1
    results = results_of(result.output)
    assert results["intro_task"] == {"name": "Ada Lovelace", "intro": "a mathematician"}
    assert results["email_task"] == {"error": "SessionClosed", "message": "input ended"}


def test_demo_keeps_partial_values_of_the_task_it_was_in() -> None:
    result = CliRunner().invoke(app, ["demo", "-q"], input="My name is Ada Lovelace\n")
    assert result.exit_code == 1
    assert results_of(result.output)["intro_task"] == {
        "error": "SessionClosed",
        "message": "input ended",
        "collected": {"name": "Ada Lovelace"},
    }


def test_demo_survives_nonsense_and_hostile_lines() -> None:
    lines = [
        "",
        "asdf qwer",
        "'; DROP TABLE users; --",
        "x" * 5000,
        "my email is not at all valid",
        "go back",  # nothing to go back to yet
        "I'm Ada Lovelace, a mathematician",
        "my email is john at gmail",  # invalid: no top-level domain
        "ada at example dot com",
        "yes",
        "yes by bus",
    ]
    result = CliRunner().invoke(app, ["demo"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert "rejected: invalid_argument" in result.output
    assert results_of(result.output)["commute_task"] == {
        "can_commute": True,
        "commute_method": "bus",
    }


def test_demo_reports_a_missing_script_clearly() -> None:
    result = CliRunner().invoke(app, ["demo", "--script", "/nonexistent/script.txt"])
    assert result.exit_code == 2
    assert "cannot read script" in result.output


def test_quitting_after_a_regression_keeps_every_collected_value() -> None:
    lines = [
        "I'm Ada Lovelace, a mathematician",
        "ada at example dot com",
        "go back, my name is wrong",
        "quit",
    ]
    result = CliRunner().invoke(app, ["demo", "-q"], input="\n".join(lines) + "\n")
    assert result.exit_code == 1
    assert results_of(result.output) == {
        "intro_task": {
            "error": "SessionClosed",
            "message": "the user quit",
        },
        "email_task": {"collected": {"email_address": "ada@example.com"}},
    }


def test_demo_journal_replays_with_no_llm_and_shows_coverage(tmp_path: Path) -> None:
    log = tmp_path / "call.jsonl"
    result = CliRunner().invoke(app, ["demo", "-q", "--script", str(SCRIPT), "--journal", str(log)])
    assert result.exit_code == 0
    target = "taskchart.adapters.console.interview:interview_chart"
    replayed = CliRunner().invoke(app, ["replay", str(log), "--chart", target])
    assert replayed.exit_code == 0, replayed.output
    assert "final: flow_done" in replayed.output
    assert '"email_task": "\'[redacted]\'"' in replayed.output  # the email was never written
    assert "ada_lovelace" not in log.read_text() and log.stat().st_mode & 0o777 == 0o600
    covered = CliRunner().invoke(
        app, ["coverage", str(log), "--chart", target, "--fail-under", "30"]
    )
    assert covered.exit_code == 0, covered.output
    assert "transitions    14/26" in covered.output
