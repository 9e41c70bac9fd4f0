"""The bank IVR example: its chart checks clean and the scripted call runs to the operator."""

from __future__ import annotations

from pathlib import Path

from taskchart.adapters.console.cli import app
from taskchart.runtime.checks import check_chart
from typer.testing import CliRunner

from examples.bank_ivr import bank_ivr_chart

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "bank_ivr_script.txt"


def test_the_bank_ivr_chart_checks_clean() -> None:
    assert check_chart(bank_ivr_chart()) == []


def test_the_scripted_call_authenticates_navigates_and_ends_with_the_operator() -> None:
    result = CliRunner().invoke(
        app, ["demo", "--flow", "examples.bank_ivr:bank_ivr_chart", "--script", str(SCRIPT)]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Sorry, I didn't hear you. Now enter your four digit" in out  # the silence
    assert "Sorry, that was not recognized." in out  # the wrong PIN, asked again
    assert "Sorry, that is not an option." in out  # the wrong key in the main menu
    assert out.count("▶ deposits") == 3 and "▶ statement" in out
    assert out.index("▶ operator") > out.index("caller > (keys 0)\n")
    assert "0 0 0 0" not in out and '"pin": "[redacted]"' in out
    assert "Thank you for calling. Goodbye." in out


def test_silence_through_every_re_prompt_exits_to_the_operator() -> None:
    result = CliRunner().invoke(
        app,
        ["demo", "--flow", "examples.bank_ivr:bank_ivr_chart", "-q"],
        input="...\n...\n",
    )
    assert result.exit_code == 0, result.output
    assert "Transfer the caller to an operator." in result.output
    assert '"type": "NoInput"' in result.output or '"error": "NoInput"' in result.output


def test_demo_bank_plays_the_sample_call() -> None:
    short = CliRunner().invoke(app, ["demo", "--bank", "-q"])
    long = CliRunner().invoke(
        app, ["demo", "--flow", "examples.bank_ivr:bank_ivr_chart", "--script", str(SCRIPT), "-q"]
    )
    assert short.exit_code == 0, short.output
    assert short.output == long.output and "caller > (keys 0)" in short.output
