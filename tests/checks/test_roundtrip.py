"""The generated tests' snapshot/restore round trip finds real snapshot and restore bugs.

Each test breaks ``snapshot`` or ``restore`` the way a real bug would, only
for some flows (one field, one bookkeeping entry, some values), and asserts
that :func:`explore` fails on the interview chart naming what differs. The
round trip restores only flows with a part of their state never verified
before: these tests show that the shortcut still sees the bugs.
"""

from __future__ import annotations

from typing import Any

import pytest
import taskchart.runtime.testing as testing
import taskchart.runtime.testing.invariants as invariants
import taskchart.runtime.testing.observe as observe
from taskchart.adapters.console.interview import interview_chart
from taskchart.runtime import Interpreter, ToolCalled
from taskchart.runtime.snapshots import restore, snapshot
from taskchart.runtime.testing import explore, flow_state_machine


def _explore_with(
    monkeypatch: pytest.MonkeyPatch,
    *,
    restored: Any = None,
    snapshotted: Any = None,
) -> None:
    if restored is not None:

        def broken_restore(chart: Any, data: Any, **options: Any) -> Interpreter:
            flow = restore(chart, data, **options)
            restored(flow)
            return flow

        monkeypatch.setattr(observe, "restore", broken_restore)
    if snapshotted is not None:

        def broken_snapshot(flow: Interpreter) -> dict[str, Any]:
            data = snapshot(flow)
            snapshotted(data)
            return data

        monkeypatch.setattr(observe, "snapshot", broken_snapshot)
    explore(interview_chart, max_examples=200, step_count=40, shrink=False)


def test_a_restore_that_loses_one_value_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    def drop_email(flow: Interpreter) -> None:
        flow.model.values["email_task"].pop("email_address", None)

    with pytest.raises(AssertionError, match=r"restored flow differs in values"):
        _explore_with(monkeypatch, restored=drop_email)


def test_a_restore_that_mangles_some_values_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """An encoding bug: only names with non-ASCII letters come back wrong (one value in 17)."""

    def ascii_names(flow: Interpreter) -> None:
        intro = flow.model.values["intro_task"]
        if "name" in intro:
            intro["name"] = str(intro["name"]).encode("ascii", "replace").decode()

    with pytest.raises(AssertionError, match=r"restored flow differs in values.*Zo\?"):
        _explore_with(monkeypatch, restored=ascii_names)


def test_a_restore_that_forgets_history_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    def forget_history(flow: Interpreter) -> None:
        flow.machine.history = {}

    with pytest.raises(AssertionError, match=r"restored flow differs in history"):
        _explore_with(monkeypatch, restored=forget_history)


def test_a_snapshot_that_leaves_out_bookkeeping_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """Which tasks were interrupted by a regression is model state that only some flows have."""

    def leave_out_interrupted(data: dict[str, Any]) -> None:
        data["interrupted"] = []

    with pytest.raises(AssertionError, match=r"restored flow differs in model"):
        _explore_with(monkeypatch, snapshotted=leave_out_interrupted)


def test_a_restored_result_of_the_wrong_type_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    def results_as_text(flow: Interpreter) -> None:
        for tid, value in flow.model.results.items():
            flow.model.results[tid] = str(value)

    with pytest.raises(AssertionError, match=r"restored flow differs in results"):
        _explore_with(monkeypatch, restored=results_as_text)


def test_each_part_of_a_flow_is_restored_once_not_each_combination() -> None:
    """Values of different tasks combine freely: far fewer restores than checks."""
    calls = {"restore": 0, "check": 0}
    real_restore, real_check = observe.restore, testing.check_roundtrip

    def counting_restore(chart: Any, data: Any, **options: Any) -> Interpreter:
        calls["restore"] += 1
        return real_restore(chart, data, **options)

    def counting_check(flow: Interpreter, verified: set[Any] | None = None) -> list[Any]:
        calls["check"] += 1
        return real_check(flow, verified)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(observe, "restore", counting_restore)
        patch.setattr(invariants, "check_roundtrip", counting_check)
        report = explore(interview_chart, max_examples=150, step_count=40)
    assert report.coverage.steps > 2_000
    assert calls["check"] > 4_000
    assert calls["restore"] < calls["check"] / 5


def test_the_same_state_in_a_new_flow_is_not_restored_again() -> None:
    chart = interview_chart()
    verified: set[Any] = set()
    restores: list[str] = []
    real = observe.restore

    def counting(chart: Any, data: Any, **options: Any) -> Interpreter:
        restores.append(data["configuration"][-1])
        return real(chart, data, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(observe, "restore", counting)
        for name in ("Ada", "Grace", "Ada"):
            flow = Interpreter(chart)
            flow.start()
            testing.check_roundtrip(flow, verified)
            flow.handle(ToolCalled("record_intro", {"name": name, "intro_notes": "hi"}))
            testing.check_roundtrip(flow, verified)
    # the start once; then one restore per new intro value ("Ada" again: none)
    assert restores == [
        "intro_task__collecting",
        "email_task__collecting",
        "email_task__collecting",
    ]


def test_the_machine_keeps_its_verified_parts_per_chart() -> None:
    machine = flow_state_machine(interview_chart)
    assert machine.restored == set()
    explore(machine, max_examples=5, step_count=10)
    assert machine.restored  # parts verified by the five walks


def test_a_result_that_no_longer_matches_its_values_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Values edited after the task completed, its result kept: a restore rebuilds another."""
    real = Interpreter.handle

    def stale(self: Interpreter, event: Any) -> Any:
        outcome = real(self, event)
        values = self.model.values["intro_task"]
        if "intro_task" in self.model.results and values.get("name") == "42":
            values["name"] = "Ada Lovelace"  # the result still says 42
        return outcome

    monkeypatch.setattr(Interpreter, "handle", stale)
    with pytest.raises(AssertionError, match=r"differs in results|result of intro_task is"):
        explore(interview_chart, max_examples=200, step_count=40, shrink=False)


def test_a_stale_result_is_found_without_a_restore_when_its_parts_are_known() -> None:
    """Every part verified in other flows: the derived result itself is checked."""
    chart = interview_chart()
    verified: set[Any] = set()

    def completed_intro(name: str) -> Interpreter:
        flow = Interpreter(chart)
        flow.start()
        assert flow.handle(ToolCalled("record_intro", {"name": name, "intro_notes": "hi"})).ok
        return flow

    for name in ("Ada Lovelace", "42"):
        testing.check_roundtrip(completed_intro(name), verified)
    stale = completed_intro("42")
    stale.model.values["intro_task"]["name"] = "Ada Lovelace"  # the result still says 42
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(observe, "restore", None)  # a restore here would fail the test
        with pytest.raises(AssertionError, match=r"result of intro_task is .*'42'.*its values"):
            testing.check_roundtrip(stale, verified)
