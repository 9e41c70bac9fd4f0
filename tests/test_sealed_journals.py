"""Journals sealed at rest with the application's Fernet keys, and read back with them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from taskchart.adapters.console.cli import app
from taskchart.adapters.console.interview import interview_chart
from taskchart.diagrams.coverage import Coverage
from taskchart.runtime import Interpreter, ToolCalled
from taskchart.runtime.pytest_plugin import write_journals
from taskchart.runtime.replay import dump_journal, read_log, replay
from taskchart.runtime.sealing import KEYS_ENV, Sealer
from taskchart.statecharts import compile_chart
from taskchart.statecharts.prebuilt import card_number_spec
from typer.testing import CliRunner

from .helpers import recorded_interview

INTERVIEW = "taskchart.adapters.console.interview:interview_chart"
CARD = "4111111111111111"


def card_flow() -> Interpreter:
    flow = Interpreter(compile_chart(card_number_spec(False)), record=True)
    flow.start()
    assert flow.handle(ToolCalled("update_card_number", {"card_number": CARD})).ok
    return flow


def test_a_sealed_journal_shows_nothing_and_replays_with_its_key(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    log = tmp_path / "call.jsonl"
    dump_journal(recorded_interview(), log, raw_values=True, keys=[key])
    text = log.read_text()
    lines = text.splitlines()
    assert len(lines) == 8 and all(list(json.loads(line)) == ["sealed"] for line in lines)
    for clear in ("Ada", "ada@example.com", "bike", "format", "record_intro", "interview"):
        assert clear not in text
    report = replay(interview_chart(), read_log(log, keys=[key]))
    assert report.ok and report.configuration == ("flow_done",)
    assert report.results["intro_task"].name == "Ada Lovelace"  # raw values, sealed


def test_a_sealed_journal_without_its_key_is_refused_saying_so(tmp_path: Path) -> None:
    log = tmp_path / "call.jsonl"
    dump_journal(recorded_interview(), log, keys=[Fernet.generate_key()])
    with pytest.raises(ValueError, match=r"line 1: the journal is sealed: give its key"):
        read_log(log)
    with pytest.raises(ValueError, match=r"line 1: cannot be opened: sealed with a key"):
        read_log(log, keys=[Fernet.generate_key()])


def test_keys_rotate_an_old_journal_opens_with_the_new_key_first(tmp_path: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    log = tmp_path / "call.jsonl"
    dump_journal(recorded_interview(), log, keys=[old])
    dump_journal(recorded_interview(), log, keys=[new, old], append=True)
    entries = read_log(log, keys=[new, old])
    assert next(e for _, e in entries if "format" in e)["values"] == "redacted"
    assert sum("format" in e for _, e in entries) == 2
    with pytest.raises(ValueError, match="line 9: cannot be opened"):
        read_log(log, keys=[old])  # the second flow was sealed with the new key


def test_raw_card_data_is_written_only_sealed(tmp_path: Path) -> None:
    clear, sealed = tmp_path / "clear.jsonl", tmp_path / "sealed.jsonl"
    key = Fernet.generate_key()
    dump_journal(card_flow(), clear, raw_values=True)  # asked for raw, without a key
    dump_journal(card_flow(), sealed, raw_values=True, keys=[key])
    assert CARD not in clear.read_text() and '"values": "redacted"' in clear.read_text()
    header, event = (e for _, e in read_log(sealed, keys=[key])[:2])
    assert header["values"] == "raw" and event["event"]["arguments"]["card_number"] == CARD


def test_the_cli_replays_and_covers_sealed_journals_with_a_key_file_or_the_environment(
    tmp_path: Path,
) -> None:
    key = Fernet.generate_key()
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# journal keys, newest first\n{key.decode()}\n")
    write_journals([recorded_interview()], tmp_path / "journals", keys=[key])
    journals = tmp_path / "journals"
    runner = CliRunner()
    refused = runner.invoke(app, ["replay", str(next(journals.iterdir())), "--chart", INTERVIEW])
    assert refused.exit_code == 2 and "sealed: give its key" in refused.output
    replayed = runner.invoke(
        app,
        ["replay", str(next(journals.iterdir())), "--chart", INTERVIEW, "--key-file", str(keys)],
    )
    assert replayed.exit_code == 0, replayed.output
    assert "final: flow_done" in replayed.output
    covered = runner.invoke(
        app, ["coverage", str(journals), "--chart", INTERVIEW], env={KEYS_ENV: key.decode()}
    )
    assert covered.exit_code == 0, covered.output
    expected = Coverage.from_files(
        interview_chart(), list(journals.iterdir()), unseal=Sealer([key]).unseal
    )
    assert covered.output.strip() == expected.report().strip()
    assert expected.states_covered > 3


def test_the_demo_seals_its_journal_when_keys_are_set(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    log = tmp_path / "demo.jsonl"
    script = Path(__file__).resolve().parents[1] / "examples" / "interview_script.txt"
    result = CliRunner().invoke(
        app, ["demo", "-q", "--script", str(script), "--journal", str(log)], env={KEYS_ENV: key}
    )
    assert result.exit_code == 0, result.output
    assert all(list(json.loads(line)) == ["sealed"] for line in log.read_text().splitlines())
    assert replay(interview_chart(), read_log(log, keys=[key])).ok
