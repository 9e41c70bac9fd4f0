"""The generated tests find a refused event that changes the flow, whatever it changes."""

from __future__ import annotations

from typing import Any

import pytest
from taskchart.adapters.console.interview import interview_chart
from taskchart.runtime import Interpreter
from taskchart.runtime.outcome import Rejected
from taskchart.runtime.testing import explore


def _explore_with_refusals_that(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    real = Interpreter._rejected

    def leaky(self: Interpreter, event: Any, rejected: Rejected, *args: Any) -> Rejected:
        change(self)
        return real(self, event, rejected, *args)

    monkeypatch.setattr(Interpreter, "_rejected", leaky)
    explore(interview_chart, max_examples=100, step_count=40, shrink=False)


def test_a_refusal_that_counts_a_reprompt_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    def count(flow: Interpreter) -> None:
        task = flow.active_task
        if task is not None:
            flow.model.reprompts[task] = flow.model.reprompts.get(task, 0) + 1

    with pytest.raises(AssertionError, match=r"was refused but changed \['model.reprompts'\]"):
        _explore_with_refusals_that(monkeypatch, count)


def test_a_refusal_that_forgets_a_value_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    def forget(flow: Interpreter) -> None:
        flow.model.values["intro_task"].pop("name", None)

    with pytest.raises(AssertionError, match=r"refused but changed \[.*'value of intro_task.name'"):
        _explore_with_refusals_that(monkeypatch, forget)


def test_a_refusal_that_moves_the_turn_counter_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    def speak(flow: Interpreter) -> None:
        flow.model.user_turn += 1

    with pytest.raises(AssertionError, match=r"refused but changed \[.*'user turn'\]"):
        _explore_with_refusals_that(monkeypatch, speak)


def test_refusals_of_a_sound_chart_change_nothing() -> None:
    report = explore(interview_chart, max_examples=100, step_count=40)
    assert report.coverage.events - report.coverage.accepted > 200  # many refusals checked
