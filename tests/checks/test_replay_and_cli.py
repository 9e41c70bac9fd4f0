"""Deterministic replay and the ``check`` / ``replay`` commands."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from taskchart.adapters.console.cli import app
from taskchart.adapters.console.interview import interview_chart
from taskchart.runtime import (
    Interpreter,
    RecordedError,
    SessionClosed,
    TaskRaised,
    TaskReturned,
    ToolCalled,
    event_from_json,
)
from taskchart.runtime.replay import dump_journal, journal_lines, read_log, replay
from taskchart.statecharts import compile_chart, implicit_task
from typer.testing import CliRunner

from ..helpers import recorded_interview
from .broken import BROKEN

INTERVIEW = "taskchart.adapters.console.interview:interview_chart"


def test_replay_reproduces_a_recorded_flow() -> None:
    flow = recorded_interview()
    report = replay(interview_chart(), journal_lines(flow, raw_values=True))
    assert report.ok
    assert report.configuration == ("flow_done",)
    assert report.result == flow.result
    assert [s.ok for s in report.steps] == [e["ok"] for e in flow.journal or []]


def test_replay_names_the_first_diverging_event(tmp_path: Path) -> None:
    log = tmp_path / "call.jsonl"
    dump_journal(recorded_interview(), log)
    broken = BROKEN["unreachable state"][0]()  # the email is no longer read back
    report = replay(broken, read_log(log))
    assert report.divergence is not None
    assert report.divergence.index == 3  # update_email_address
    assert "update_email_address" in str(report.divergence)
    assert "email_task__confirming" in report.divergence.expected


def test_hand_written_task_endings_replay(tmp_path: Path) -> None:
    @dataclasses.dataclass
    class Consent:
        given: bool

    chart = compile_chart(
        [implicit_task("consent", tools=["consent_given"]), implicit_task("survey")],
        return_exceptions=True,
    )
    flow = Interpreter(chart, record=True)
    flow.start()
    assert flow.handle(TaskReturned(Consent(True))).ok
    assert flow.handle(TaskRaised(ValueError("the caller hung up"))).ok
    assert flow.done
    log = tmp_path / "call.jsonl"
    dump_journal(flow, log, raw_values=True)
    report = replay(chart, read_log(log))
    assert report.ok and report.done
    # the result comes back as its JSON form, the error as its recorded text
    assert report.results["consent"] == {"given": True}
    error = report.results["survey"]
    assert isinstance(error, RecordedError) and str(error) == "ValueError: the caller hung up"
    again = Interpreter(chart, record=True)  # a replayed journal records the same lines
    again.start()
    for line in read_log(log):
        if "event" in line[1]:
            again.handle(event_from_json(line[1]["event"]))
    assert [e["event"] for e in again.journal or []] == [e["event"] for e in flow.journal or []]


def test_a_malformed_task_raised_is_refused() -> None:
    with pytest.raises(ValueError, match="error must be the recorded text"):
        event_from_json({"type": "TaskRaised", "error": 3})


def test_bare_events_replay_without_expectations(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text(
        "\n".join(
            json.dumps(e.to_json())
            for e in [ToolCalled("record_intro", {"name": "Ada", "intro_notes": "hi"})]
        )
    )
    report = replay(interview_chart(), read_log(log))
    assert report.ok and report.configuration == ("email_task", "email_task__collecting")


def test_cli_check(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    ok = runner.invoke(app, ["check", INTERVIEW])
    assert ok.exit_code == 0, ok.output
    assert ok.output.count("warning: no-escape") == 2
    strict = runner.invoke(app, ["check", "--strict", INTERVIEW])
    assert strict.exit_code == 1
    bad = runner.invoke(app, ["check", "tests.checks.broken:dead_end"])
    assert bad.exit_code == 1
    assert "error: dead-end: email_task__confirming" in bad.output
    missing = runner.invoke(app, ["check", "nope.nope:x"])
    assert missing.exit_code == 2


def test_cli_replay(tmp_path: Path) -> None:
    log = tmp_path / "call.jsonl"
    dump_journal(recorded_interview(), log)
    runner = CliRunner()
    good = runner.invoke(app, ["replay", str(log), "--chart", INTERVIEW])
    assert good.exit_code == 0, good.output
    assert "final: flow_done" in good.output
    assert "update email_task/email_task__collecting -> email_task/email_task__confirming" in (
        good.output
    )
    bad = runner.invoke(
        app, ["replay", str(log), "--chart", "tests.checks.broken:unreachable_state"]
    )
    assert bad.exit_code == 1
    assert "DIVERGED line 4: event #3 ToolCalled update_email_address" in bad.output


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"type": "ToolCalled", "name": [1], "arguments": {}}', "name must be text, got [1]"),
        ('{"type": "TimerFired", "timer_id": {}}', "timer_id must be text, got {}"),
        ('{"type": "DtmfReceived", "digit": 5}', "digit must be text, got 5"),
        ('{"event": null, "ok": true}', "an event must be a JSON object, got NoneType"),
        (
            '{"event": {"type": "UserSpoke"}, "ok": true, "step": {"source": 5}}',
            "recorded a malformed recorded step",
        ),
        ('{"event": {"type": "UserSpoke"}, "ok": true, "step": []}', "malformed recorded step []"),
    ],
    ids=["tool-name", "timer-id", "digit", "no-event", "step-source", "step-list"],
)
def test_a_malformed_log_line_is_a_divergence_not_a_crash(
    tmp_path: Path, line: str, message: str
) -> None:
    log = tmp_path / "odd.jsonl"
    log.write_text(line + "\n")
    report = replay(interview_chart(), read_log(log))
    assert report.divergence is not None and report.divergence.line == 1
    assert message in str(report.divergence)
    cli = CliRunner().invoke(app, ["replay", str(log), "--chart", INTERVIEW])
    assert cli.exit_code == 1 and message in cli.output, cli.output


@pytest.mark.parametrize(
    "line", ["[" * 100_000 + "]" * 100_000, '{"n": ' + "1" * 5000 + "}"], ids=["deep", "long-int"]
)
def test_an_unreadable_log_line_is_named(tmp_path: Path, line: str) -> None:
    log = tmp_path / "odd.jsonl"
    log.write_text('{"type": "UserSpoke"}\n' + line + "\n")
    with pytest.raises(ValueError, match="line 2: not readable JSON"):
        read_log(log)
    cli = CliRunner().invoke(app, ["replay", str(log), "--chart", INTERVIEW])
    assert cli.exit_code == 2 and "line 2" in cli.output, cli.output


def test_unexpected_keys_of_any_type_are_named() -> None:
    with pytest.raises(ValueError, match="unexpected keys for UserSpoke: 'a', 1"):
        event_from_json({"type": "UserSpoke", 1: 1, "a": 2})


def test_a_journal_with_values_json_cannot_hold_is_still_written(tmp_path: Path) -> None:
    """One line per event all the same: the odd event is named, the rest replays."""
    flow = Interpreter(interview_chart(), record=True)
    flow.start()
    flow.handle(ToolCalled("record_intro", {10**5000: "x"}))  # refused: an unknown argument
    flow.handle(ToolCalled("record_intro", {"name": "Ada", "intro_notes": "hi"}))
    flow.handle(SessionClosed({(1,): 2}))  # type: ignore[arg-type]
    log = tmp_path / "odd.jsonl"
    dump_journal(flow, log, raw_values=True)
    entries = read_log(log)
    assert [e.get("event", {}).get("type") for _, e in entries] == [
        None,  # the header
        "ToolCalled",
        "ToolCalled",
        "SessionClosed",
        None,  # the end record
    ]
    assert "unrecordable" in entries[1][1]["event"]
    assert (
        entries[3][1]["event"]["unrecordable"] == "{'type': 'SessionClosed', 'reason': {(1,): 2}}"
    )
    report = replay(interview_chart(), entries)
    assert report.divergence is not None and report.divergence.line == 2


def test_a_log_header_with_an_unknown_modality_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "odd.jsonl"
    header = {"format": "taskchart.journal/1", "chart": "InterviewFlow", "modality": "video"}
    log.write_text(json.dumps(header) + "\n")
    with pytest.raises(ValueError, match="line 1: unknown modality 'video'"):
        replay(interview_chart(), read_log(log))
    with pytest.raises(ValueError, match="modality must be 'text' or 'audio', got 'video'"):
        Interpreter(interview_chart(), modality="video")
