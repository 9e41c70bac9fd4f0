"""Generated property tests (``taskchart.runtime.testing``) on good and broken charts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import settings
from taskchart.adapters.console.cli import app
from taskchart.adapters.console.interview import interview_chart, interview_tasks
from taskchart.diagrams.coverage import Coverage
from taskchart.runtime import Interpreter, ToolCalled
from taskchart.runtime.interpreter import record_every_flow
from taskchart.runtime.testing import drive_to_end, explore, flow_state_machine
from taskchart.statecharts import (
    Confirmation,
    Field,
    InputHandler,
    compile_chart,
    declarative_task,
    implicit_task,
)
from taskchart.statecharts.chart import Chart
from taskchart.statecharts.prebuilt.menu import Menu, menu_flow
from typer.testing import CliRunner

from ..helpers import TIMER_TASKS
from .broken import BROKEN

#: Walk examples per chart: the loaded hypothesis profile's budget (ci: 200), at least 150.
EXAMPLES = max(150, settings.default.max_examples)
#: The rule-based machine is slower per event (one hypothesis rule each): a smaller budget.
RULE_EXAMPLES = 20 if settings.default.max_examples <= 200 else settings.default.max_examples // 4


def timer_chart():  # type: ignore[no-untyped-def]
    return compile_chart(TIMER_TASKS, name="GeneratedTimerFlow")


def mixed_chart():  # type: ignore[no-untyped-def]
    """A hand-written task before the declarative interview tasks."""
    return compile_chart(
        [implicit_task("consent", tools=["consent_given"]), *interview_tasks()],
        name="GeneratedMixedFlow",
    )


# The three lines a user writes:
TestInterviewFlow = flow_state_machine(
    interview_chart, max_examples=RULE_EXAMPLES, step_count=25
).TestCase


@pytest.mark.parametrize("factory", [interview_chart, timer_chart, mixed_chart])
def test_walks_keep_every_invariant_and_visit_every_expected_state(factory) -> None:  # type: ignore[no-untyped-def]
    report = explore(factory, max_examples=EXAMPLES, step_count=40)
    assert report.coverage.steps > EXAMPLES
    assert report.unvisited == (), report.unvisited


@pytest.mark.parametrize(
    "loaded",
    [
        "examples.consent:CollectConsent",
        "taskchart.statecharts.prebuilt.gallery:email",
        "examples.email_chart:email_spec",
    ],
    indirect=True,
)
def test_generated_walks_cover_every_state_and_transition(loaded: Chart) -> None:
    """A table holds only what can happen, so the walks reach all of it."""
    flows = record_every_flow()
    try:
        explore(loaded, max_examples=EXAMPLES, step_count=40)
    finally:
        record_every_flow(False, flows=flows)
    coverage = Coverage.from_journals(loaded, [flow.journal for flow in flows])
    assert coverage.never_entered() == [] and coverage.never_taken() == [], coverage.report()
    assert coverage.percent == 100.0


def test_rule_based_machine_on_the_timer_and_mixed_charts() -> None:
    for factory in (timer_chart, mixed_chart):
        report = explore(factory, max_examples=RULE_EXAMPLES, step_count=25, rules=True)
        assert report.coverage.events > RULE_EXAMPLES


def test_dead_end_is_found() -> None:
    with pytest.raises(AssertionError, match=r"stuck in email_task__confirming|could not finish"):
        explore(BROKEN["dead end"][0], max_examples=EXAMPLES, step_count=30, shrink=False)


def test_double_completion_is_found() -> None:
    # hypothesis may report both symptoms at once (an ExceptionGroup)
    with pytest.raises((AssertionError, ExceptionGroup)) as found:
        explore(BROKEN["double completion"][0], max_examples=EXAMPLES, step_count=30)
    errors = found.value.exceptions if isinstance(found.value, ExceptionGroup) else [found.value]
    for error in errors:
        assert isinstance(error, AssertionError)
        assert re.search(r"already has a result|completed twice", str(error)), error


def test_double_completion_is_found_by_the_rule_based_machine() -> None:
    with pytest.raises(AssertionError, match=r"already has a result|completed twice"):
        explore(
            BROKEN["double completion"][0], max_examples=RULE_EXAMPLES, rules=True, shrink=False
        )


def test_unreachable_state_is_reported_as_never_visited() -> None:
    report = explore(BROKEN["unreachable state"][0], max_examples=EXAMPLES, step_count=30)
    assert "email_task__confirming" in report.unvisited
    assert "email_task__confirming" not in explore(interview_chart, max_examples=30).unvisited


def test_user_invariants_run_after_every_event() -> None:
    machine = flow_state_machine(interview_chart)
    seen = []

    @machine.flow_invariant
    def no_commute_before_email(flow: Interpreter) -> None:
        seen.append(flow.configuration)
        if "commute_task" in flow.results:
            assert "email_task" in flow.results

    explore(machine, max_examples=30)
    assert len(seen) > 30

    failing = flow_state_machine(interview_chart)

    @failing.flow_invariant
    def never_finish(flow: Interpreter) -> None:
        assert not flow.done, "the flow finished"

    with pytest.raises(AssertionError, match="the flow finished"):
        explore(failing, max_examples=EXAMPLES, shrink=False)


def test_drive_to_end_finishes_a_started_interview() -> None:
    flow = Interpreter(interview_chart(), modality="audio")
    flow.start()
    assert flow.handle(ToolCalled("record_intro", {"name": "Ada"})).ok
    assert drive_to_end(flow)
    assert flow.configuration == ("flow_done",)


def run_pytest(test_file: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a user's test file with pytest in a fresh process, in the file's folder."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=test_file.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


def test_the_plugin_works_in_a_fresh_project(tmp_path: Path) -> None:
    test_file = tmp_path / "test_user_flow.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import pytest
            from taskchart.adapters.console.interview import interview_chart
            from taskchart.runtime.testing import flow_state_machine

            TestFlow = flow_state_machine(interview_chart, max_examples=5).TestCase

            @pytest.mark.taskchart_flow(max_examples=7, step_count=10)
            def test_explore(explore_flow):
                report = explore_flow(interview_chart)
                assert report.coverage.runs >= 7

            def test_machine(flow_machine):
                assert flow_machine(interview_chart).chart.name == "InterviewFlow"
            """
        )
    )
    proc = run_pytest(test_file)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout


def test_the_plugin_writes_the_suite_journals_for_coverage(tmp_path: Path) -> None:
    test_file = tmp_path / "test_user_flow.py"
    test_file.write_text(
        textwrap.dedent(
            """
            from taskchart.runtime import Interpreter, ToolCalled
            from taskchart.statecharts.prebuilt.gallery import email
            from taskchart.statecharts import compile_chart

            def test_email():
                flow = Interpreter(compile_chart(email()))
                flow.start()
                assert flow.handle(ToolCalled("update_email_address", {"email": "a@b.io"})).ok
            """
        )
    )
    journals = tmp_path / "journals"
    proc = run_pytest(test_file, TASKCHART_JOURNALS=str(journals))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (written,) = journals.iterdir()  # private: only its owner reads it, and no email in it
    assert written.stat().st_mode & 0o777 == 0o600 and "a@b.io" not in written.read_text()
    target = "taskchart.statecharts.prebuilt.gallery:email"
    result = CliRunner().invoke(app, ["coverage", str(journals), "--chart", target])
    assert result.exit_code == 0, result.output
    assert "transitions     4/12" in result.output  # dispatch, update, done, finish


def test_generated_walks_drive_silences_unmatched_turns_and_wrong_keys_to_the_limits() -> None:
    """Counters stay within their limits and exits are taken exactly at them (built in)."""
    operator = declarative_task("operator", fields=[Field("note")], confirmation=Confirmation.NEVER)
    pin = declarative_task(
        "pin",
        fields=[Field("pin", int)],
        confirmation=Confirmation.NEVER,
        no_input=InputHandler(timeout=5.0, max_retries=2, exit="operator"),
        no_match=InputHandler(max_retries=1),
    )
    menus = [
        Menu("main", "Main menu.", {"1": "cards", "2": "loans"}, {"1": "cards"}),
        Menu("cards", "Cards.", {"1": "statement"}),
    ]
    specs = [pin, *menu_flow(menus, operator=operator, max_retries=1)]
    report = explore(lambda: specs, max_examples=EXAMPLES, step_count=40)
    assert "operator__collecting" in report.coverage.states
    assert {"pin__failed", "cards__failed", "main__failed"} <= report.coverage.states
