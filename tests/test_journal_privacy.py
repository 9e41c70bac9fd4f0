"""Journals and snapshots written out hold no personal value, in 0600 files, and still replay."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from taskchart.runtime import (
    DtmfReceived,
    Event,
    Interpreter,
    SnapshotError,
    TaskRaised,
    TaskReturned,
    ToolCalled,
    UserSpoke,
    restore,
    snapshot,
)
from taskchart.runtime.private import dump_snapshot, redact_snapshot
from taskchart.runtime.pytest_plugin import write_journals
from taskchart.runtime.replay import dump_journal, read_log, replay
from taskchart.statecharts import Chart, compile_chart, implicit_task
from taskchart.statecharts.prebuilt import (
    GetCardNumberResult,
    card_number_spec,
    dtmf_spec,
    expiration_date_spec,
    security_code_spec,
)

CARD = "4111 1111 1111 1111"


def _card() -> tuple[Chart, list[Event]]:
    repeat = "confirm_card_number"
    return compile_chart(card_number_spec(True)), [
        ToolCalled("update_card_number", {"card_number": "4111 1111 1111 1112"}),  # bad check digit
        ToolCalled("update_card_number", {"card_number": CARD}),
        UserSpoke("four one one one", "audio"),
        ToolCalled(repeat, {"repeated_card_number": "5555 5555 5555 4444"}),  # does not match
        UserSpoke("again", "audio"),
        ToolCalled(repeat, {"repeated_card_number": "4111111111111111"}),
    ]


def _code() -> tuple[Chart, list[Event]]:
    return compile_chart(security_code_spec(True, "Visa")), [
        ToolCalled("update_security_code", {"security_code": "73"}),  # too short
        ToolCalled("update_security_code", {"security_code": "737"}),
        UserSpoke("seven three seven"),
        ToolCalled("confirm_security_code", {"repeated_security_code": "737"}),
    ]


def _expiry() -> tuple[Chart, list[Event]]:
    update = "update_expiration_date"
    return compile_chart(expiration_date_spec(False)), [
        ToolCalled(update, {"expiration_month": 4, "expiration_year": 2001}),  # expired: validate
        ToolCalled(update, {"expiration_month": 13, "expiration_year": 31}),  # no such month
        ToolCalled(update, {"expiration_month": 4, "expiration_year": 2031}),
    ]


def _keys() -> tuple[Chart, list[Event]]:
    return compile_chart(dtmf_spec(4, True)), [
        *(DtmfReceived(d, "sip_+14155550123") for d in "98#"),  # too few at the stop key
        DtmfReceived("12"),  # no keypad key
        *(DtmfReceived(d) for d in "9876"),
        UserSpoke("yes"),
        ToolCalled("confirm_inputs", {"inputs": ["9", "8", "7", "5"]}),  # not what was typed
        UserSpoke("nine eight seven six"),
        ToolCalled("confirm_inputs", {"inputs": ["nine eight seven six"]}),
    ]


def _group() -> tuple[Chart, list[Event]]:
    chart = compile_chart(
        [implicit_task("card"), implicit_task("survey"), implicit_task("end")],
        return_exceptions=True,
    )
    return chart, [
        TaskReturned(GetCardNumberResult("Visa", "4111111111111111")),
        ToolCalled("out_of_scope", {"task_ids": ["card"]}),
        TaskReturned(GetCardNumberResult("Visa", "4111111111111111")),
        TaskRaised(ValueError("Ada Lovelace said 4111111111111111")),
        TaskReturned({"email": "ada@example.com"}),
    ]


SCENARIOS: dict[str, Callable[[], tuple[Chart, list[Event]]]] = {
    "card number": _card,
    "security code": _code,
    "expiration date": _expiry,
    "keypad": _keys,
    "group": _group,
}
RAW = ("4111", "1112", "5555", "737", "9876", "9 8", "Lovelace", "ada@", "14155550123", "2031")


def _found(text: str) -> list[str]:
    """The raw values in ``text`` (chart digests, hex, are left out: '737' may be in one)."""
    text = re.sub(r'"digest": "[0-9a-f]+"', "", text)
    return [raw for raw in RAW if raw in text]


def _recorded(scenario: str) -> Interpreter:
    chart, events = SCENARIOS[scenario]()
    flow = Interpreter(chart, modality="audio", record=True)
    flow.start()
    for event in events:
        flow.handle(event)
    assert flow.done, flow.configuration
    return flow


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_default_journal_holds_no_personal_value_and_replays_the_same_outcomes(
    scenario: str, tmp_path: Path
) -> None:
    flow = _recorded(scenario)
    log = tmp_path / "call.jsonl"
    dump_journal(flow, log, modality="audio")
    text = log.read_text()
    assert not _found(text), text
    assert log.stat().st_mode & 0o777 == 0o600
    assert '"values": "redacted"' in text
    report = replay(flow.chart, read_log(log))
    assert report.ok, report.divergence
    assert [s.ok for s in report.steps] == [e["ok"] for e in flow.journal or []]
    assert [s.code for s in report.steps] == [e["code"] for e in flow.journal or []]
    assert report.configuration == flow.configuration
    assert "4111" not in repr(report.results)


def test_a_redacted_journal_still_finds_a_chart_that_changed(tmp_path: Path) -> None:
    log = tmp_path / "call.jsonl"
    dump_journal(_recorded("card number"), log, modality="audio")
    no_confirmation = compile_chart(card_number_spec(False))  # the number is no longer repeated
    report = replay(no_confirmation, read_log(log))
    assert report.divergence is not None and report.divergence.index == 2
    assert "card_number__confirming" in report.divergence.expected


def test_raw_values_are_an_explicit_opt_in_and_replay_exactly(tmp_path: Path) -> None:
    flow = _recorded("keypad")
    log = tmp_path / "call.jsonl"
    dump_journal(flow, log, modality="audio", raw_values=True)
    assert '"9"' in log.read_text() and "nine eight seven six" in log.read_text()
    assert log.stat().st_mode & 0o777 == 0o600
    report = replay(flow.chart, read_log(log))
    assert report.ok and report.result == flow.result


@pytest.mark.parametrize("scenario", ["card number", "security code", "expiration date", "group"])
def test_card_data_stays_redacted_in_a_raw_journal_without_a_key(
    tmp_path: Path, scenario: str
) -> None:
    flow = _recorded(scenario)
    log = tmp_path / "call.jsonl"
    dump_journal(flow, log, modality="audio", raw_values=True)
    assert _found(log.read_text()) == []
    assert replay(flow.chart, read_log(log)).ok


def test_a_journal_file_that_existed_is_narrowed_to_0600(tmp_path: Path) -> None:
    log = tmp_path / "call.jsonl"
    log.write_text("")
    os.chmod(log, 0o644)
    dump_journal(_recorded("group"), log)
    assert log.stat().st_mode & 0o777 == 0o600
    os.chmod(log, 0o644)
    dump_journal(_recorded("group"), log, append=True)
    assert log.stat().st_mode & 0o777 == 0o600
    assert len(read_log(log)) == 14  # two flows, a header and an end record each


def test_the_suite_journals_are_private_unless_asked(tmp_path: Path) -> None:
    flows = [_recorded("keypad"), _recorded("security code")]
    write_journals(flows, tmp_path / "journals")
    files = sorted((tmp_path / "journals").iterdir())
    assert len(files) == 2
    assert (tmp_path / "journals").stat().st_mode & 0o777 == 0o700
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600
        assert not _found(path.read_text())
    write_journals(flows, tmp_path / "raw", raw_values=True)
    raw = {p.name: p.read_text() for p in (tmp_path / "raw").iterdir()}
    assert any('"digit": "9"' in text for text in raw.values())  # the keypad's, raw
    assert not any("737" in text for text in raw.values())  # the code: card data, never


def _half_way() -> Interpreter:
    flow = Interpreter(compile_chart(dtmf_spec(4, True)), modality="audio")
    flow.start()
    for digit in "9876":
        flow.handle(DtmfReceived(digit))
    flow.handle(DtmfReceived("1"))  # a new entry has begun: a key in the buffer
    assert flow.configuration[-1] == "dtmf_inputs__confirming"
    return flow


def test_a_written_snapshot_is_redacted_private_and_refuses_to_restore(tmp_path: Path) -> None:
    flow = _half_way()
    path = tmp_path / "snap.json"
    dump_snapshot(flow, path)
    text = path.read_text()
    assert "9 8 7 6" not in text and path.stat().st_mode & 0o777 == 0o600
    data = json.loads(text)
    assert data["values"] == {"dtmf_inputs": {"user_input": "[redacted]"}}
    assert data["keys"] == {"dtmf_inputs": ["[redacted]"]}
    assert data["configuration"] == list(flow.configuration)  # where the flow is stays
    with pytest.raises(SnapshotError, match="redacted snapshot"):
        restore(flow.chart, data)


def test_in_memory_and_opted_in_snapshots_keep_the_values_to_resume(tmp_path: Path) -> None:
    flow = _half_way()
    assert snapshot(flow)["values"] == {"dtmf_inputs": {"user_input": "9 8 7 6"}}
    path = tmp_path / "snap.json"
    dump_snapshot(flow, path, raw_values=True)
    again = restore(flow.chart, json.loads(path.read_text()))
    assert again.values("dtmf_inputs") == {"user_input": "9 8 7 6"}
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_redacted_snapshot_redacts_results_and_errors() -> None:
    flow = _recorded("group")
    data = redact_snapshot(flow.chart, snapshot(flow))
    card = data["results"]["card"]  # a registered result type keeps its type's name
    assert card["value"] == "[redacted]" and set(card) <= {"value", "type"}
    assert data["results"]["survey"]["error"]["message"] == "[redacted]"
    assert not _found(json.dumps(data))


def test_a_redacted_snapshot_hides_the_words_an_adapter_error_said_too() -> None:
    from taskchart.runtime import Interpreter, TaskRaised
    from taskchart.statecharts import Declined, compile_chart, implicit_task

    class Refused(Exception):
        failure = Declined("email", "my address is ada@example.com")

        def __str__(self) -> str:
            return "couldn't get the email address: my address is ada@example.com"

    flow = Interpreter(compile_chart(implicit_task("email"), return_exceptions=True))
    flow.start()
    assert flow.handle(TaskRaised(Refused())).ok
    error = snapshot(flow)["results"]["email"]["error"]
    assert error["said"] == "couldn't get the email address: my address is ada@example.com"
    redacted = redact_snapshot(flow.chart, snapshot(flow))["results"]["email"]["error"]
    assert (redacted["message"], redacted["said"]) == ("[redacted]", "[redacted]")
    assert "ada@example.com" not in json.dumps(redacted)
