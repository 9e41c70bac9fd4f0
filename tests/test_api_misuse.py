"""The API refuses misuse clearly, and the README's journal example runs."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from taskchart.adapters.console.interview import interview_chart
from taskchart.adapters.livekit import TaskGroup
from taskchart.adapters.stores import RedisStore, SQLiteStore
from taskchart.runtime import (
    AsyncFlow,
    DtmfReceived,
    Interpreter,
    Rejected,
    SessionClosed,
    TimerFired,
    ToolCalled,
    UserSpoke,
)
from taskchart.runtime.snapshots import SnapshotError, restore, snapshot
from taskchart.statecharts import (
    Confirmation,
    Declined,
    Field,
    TaskFailure,
    compile_chart,
    declarative_task,
    implicit_task,
)
from taskchart.statecharts.prebuilt.gallery import email

ROOT = Path(__file__).resolve().parents[1]
INTRO = {"name": "Ada Lovelace", "intro_notes": "a mathematician"}


@pytest.mark.parametrize("given", [email(), [email()]], ids=["spec", "list-of-specs"])
def test_interpreter_of_a_spec_says_to_compile_it(given: Any) -> None:
    with pytest.raises(TypeError) as info:
        Interpreter(given)
    assert str(info.value) == (
        f"Interpreter runs a compiled Chart, got {type(given).__name__}: "
        "pass compile_chart(spec) (or compile_chart([spec, ...]) for a group)"
    )
    assert Interpreter(compile_chart(given)).start()  # as it says


@pytest.mark.parametrize("fields", [[], ()])
def test_a_declarative_task_without_fields_is_refused(fields: Any) -> None:
    with pytest.raises(ValueError, match="declarative task 'empty' has no fields"):
        declarative_task("empty", fields=fields)


MISSPELT: dict[str, tuple[Callable[[], object], str]] = {
    "flowid": (
        lambda: AsyncFlow(Interpreter(compile_chart(email())), flowid="room-7"),
        "AsyncFlow",
    ),
    "lease_tll": (lambda: TaskGroup(lease_tll=30.0), "TaskGroup"),
    "retian": (lambda: SQLiteStore("flows.db", retian=60.0), "SQLiteStore"),
    "abandonn": (lambda: RedisStore("redis://localhost", abandonn=60.0), "RedisStore"),
    "confirmaton": (
        lambda: declarative_task("name", fields=[Field("name")], confirmaton=Confirmation.NEVER),
        "declarative_task",
    ),
    "fields": (lambda: implicit_task("intro", fields=[Field("name")]), "implicit_task"),
    "max_reprompts": (lambda: implicit_task("intro", max_reprompts=3), "implicit_task"),
}


@pytest.mark.parametrize("keyword", sorted(MISSPELT))
def test_a_keyword_a_callable_does_not_take_is_refused_in_its_name(keyword: str) -> None:
    """Keywords taken as one typed record are checked as named ones are: a misspelt flow_id
    would leave a flow silently not durable, a hand-written task's fields would be dropped."""
    make, where = MISSPELT[keyword]
    with pytest.raises(TypeError) as info:
        make()
    assert str(info.value) == f"{where}() got an unexpected keyword argument {keyword!r}"


def test_results_hold_a_task_failure_for_a_task_that_ended_without_one() -> None:
    chart = compile_chart(
        [
            declarative_task("name", fields=[Field("name")], confirmation=Confirmation.NEVER),
            declarative_task("city", fields=[Field("city")], confirmation=Confirmation.NEVER),
        ],
        return_exceptions=True,
    )
    flow = Interpreter(chart)
    flow.start()
    assert flow.handle(ToolCalled("decline_name", {"reason": "private"})).ok
    assert flow.handle(ToolCalled("update_city", {"city": "London"})).ok
    declined = flow.results["name"]
    assert isinstance(declined, Declined) and isinstance(declined, TaskFailure)
    assert (declined.task_id, declined.message) == ("name", "private")
    assert not isinstance(flow.results["city"], TaskFailure)
    doc = Interpreter.results.__doc__ or ""
    assert "TaskFailure" in doc and "Declined" in doc and "isinstance(r, Exception)" in doc


def test_rejected_event_always_names_what_was_refused() -> None:
    flow = Interpreter(interview_chart())
    flow.start()
    refusals = {
        # refused while resolving the tool, by a guard, by a transition check, by the turn
        "confirm_email_address": ToolCalled("confirm_email_address", {}),
        "record_intro": ToolCalled("record_intro", {"nme": "Ada"}),
        "nope": ToolCalled("nope", {}),
        "TimerFired": TimerFired("no.such.timer"),
        "DtmfReceived": DtmfReceived("5"),
        "UserSpoke": UserSpoke("hi", "video"),  # type: ignore[arg-type]
    }
    for name, event in refusals.items():
        outcome = flow.handle(event)
        assert isinstance(outcome, Rejected), (name, outcome)
        assert outcome.event == name, (name, outcome)
    assert flow.handle(ToolCalled("record_intro", INTRO)).ok
    assert flow.handle(ToolCalled("update_email_address", {"email": "ada@example.com"})).ok
    guard = flow.handle(ToolCalled("confirm_email_address", {}))  # the user has not answered
    assert isinstance(guard, Rejected) and guard.code == "guard_failed"
    assert guard.event == "confirm_email_address"
    turn = flow.handle_batch(
        [
            ToolCalled("update_email_address", {"email": "ada@example.org"}),
            ToolCalled("decline_email_capture", {"reason": "no"}),
        ]
    )
    assert isinstance(turn[0], Rejected) and turn[0].code == "superseded"
    assert turn[0].event == "update_email_address"
    assert flow.done  # the decline, the caller's last word, ended the flow
    finished = flow.handle(SessionClosed("again"))
    assert isinstance(finished, Rejected) and finished.event == "SessionClosed"


@pytest.mark.parametrize("events", ["garbage", b"garbage", ToolCalled("nope", {}), None])
def test_handle_batch_refuses_what_is_not_a_list_of_events(events: Any) -> None:
    flow = Interpreter(interview_chart())
    flow.start()
    with pytest.raises(TypeError, match=r"handle_batch takes a list of the events of one turn"):
        flow.handle_batch(events)
    assert flow.handle_batch([]) == []


def _at_email() -> dict[str, Any]:
    flow = Interpreter(interview_chart())
    flow.start()
    assert flow.handle(ToolCalled("record_intro", INTRO)).ok
    return snapshot(flow)


def _done() -> dict[str, Any]:
    flow = Interpreter(interview_chart())
    flow.start()
    for event in [
        ToolCalled("record_intro", INTRO),
        ToolCalled("update_email_address", {"email": "ada@example.com"}),
        UserSpoke("yes"),
        ToolCalled("confirm_email_address", {}),
        ToolCalled("record_commute_flexibility", {"can_commute": "yes", "commute_method": "bus"}),
    ]:
        assert flow.handle(event).ok, event
    assert flow.done
    return snapshot(flow)


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(base)
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _with(_at_email(), visited=[]),
            "visited lacks ['intro_task', 'email_task']: the active task, every task with a "
            "result and every interrupted task must have been visited",
        ),
        (_with(_at_email(), closed="yes"), "closed must be true or false, got 'yes'"),
        (
            _with(_done(), results={}),
            "a finished flow lacks the results of ['intro_task', 'email_task', 'commute_task']",
        ),
        (_with(_done(), configuration=["flow_failed"]), "a failed flow must name its failed_task"),
    ],
    ids=["unvisited-active-task", "closed-not-bool", "done-without-results", "failed-unnamed"],
)
def test_restore_refuses_an_inconsistent_snapshot(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SnapshotError) as info:
        restore(interview_chart(), data)
    assert str(info.value) == message


def test_the_consistent_snapshots_restore() -> None:
    assert restore(interview_chart(), _at_email()).active_task == "email_task"
    assert restore(interview_chart(), _done()).done


def test_readme_names_the_snapshot_keys_as_they_are() -> None:
    text = (ROOT / "README.md").read_text()
    said = re.search(r"`snapshot\(flow\)` gives plain JSON \(([^)]*)\)", text.replace("\n", " "))
    assert said is not None
    for key in said.group(1).split(", "):
        assert key in _at_email(), key


def test_readme_journal_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "README.md").read_text()
    block = text.split("Record your own chart's flow", 1)[1].split("```text\n", 1)[1]
    code = block.split("```", 1)[0]
    namespace: dict[str, Any] = {"compile_chart": compile_chart, "email": email()}
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), namespace)
    written = (tmp_path / "call.jsonl").read_text()
    assert '"format": "taskchart.journal/2"' in written and "ada@example.com" not in written
    assert os.stat(tmp_path / "call.jsonl").st_mode & 0o777 == 0o600
