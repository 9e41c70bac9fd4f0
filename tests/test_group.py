"""Group charts: order, regression through history, dependencies, failures."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from taskchart.runtime import (
    Accepted,
    Complete,
    Interpreter,
    Regressed,
    SessionClosed,
    TaskCompleted,
    TaskStarted,
    ToolCalled,
    UserSpoke,
)
from taskchart.statecharts import (
    Confirmation,
    Declined,
    Field,
    TaskGroupResult,
    TaskSpec,
    compile_chart,
    declarative_task,
)
from taskchart.statecharts import SessionClosed as SessionClosedError


@dataclass
class Name:
    name: str


@dataclass
class Address:
    street: str
    city: str


def tasks(depends: bool = False) -> list[TaskSpec]:
    never = Confirmation.NEVER
    return [
        declarative_task("name", Name, fields=[Field("name")], confirmation=never),
        declarative_task(
            "address", Address, fields=[Field("street"), Field("city")], confirmation=never
        ),
        declarative_task(
            "greeting",
            fields=[Field("text")],
            confirmation=never,
            depends_on=["name"] if depends else [],
        ),
        declarative_task("email", fields=[Field("email")], confirmation=Confirmation.ALWAYS),
    ]


def run_to_email(flow: Interpreter) -> list[object]:
    effects: list[object] = list(flow.start())
    for call in (
        ToolCalled("update_name", {"name": "Ada"}),
        ToolCalled("update_address", {"street": "1 Main St", "city": "Paris"}),
        ToolCalled("update_greeting", {"text": "Hello Ada"}),
        ToolCalled("update_email", {"email": "ada@x.org"}),
    ):
        outcome = flow.handle(call)
        assert isinstance(outcome, Accepted), outcome
        effects.extend(outcome.effects)
    return effects


def completed(effects: list[object]) -> list[str]:
    return [e.task_id for e in effects if isinstance(e, TaskCompleted)]


def test_tasks_run_in_order_and_results_are_keyed_in_add_order() -> None:
    flow = Interpreter(compile_chart(tasks()))
    effects = run_to_email(flow)
    flow.handle(UserSpoke("yes"))
    last = flow.handle(ToolCalled("confirm_email", {}))
    assert isinstance(last, Accepted)
    result = flow.result
    assert isinstance(result, TaskGroupResult)
    assert list(result.task_results) == ["name", "address", "greeting", "email"]
    assert result.task_results["address"] == Address("1 Main St", "Paris")
    assert completed(effects + list(last.effects)) == ["name", "address", "greeting", "email"]
    assert Complete(result) in last.effects


def test_regression_keeps_untouched_results_and_resumes_the_interrupted_task() -> None:
    flow = Interpreter(compile_chart(tasks()))
    effects = run_to_email(flow)
    assert flow.configuration == ("email", "email__confirming")
    assert "out_of_scope" in flow.tools
    back = flow.handle(ToolCalled("out_of_scope", {"task_ids": ["name"]}))
    assert isinstance(back, Accepted)
    assert Regressed("email", ("name",)) in back.effects
    assert TaskStarted("name", resumed=False) in back.effects
    assert flow.values("name") == {}  # the target starts fresh
    again = flow.handle(ToolCalled("update_name", {"name": "Augusta"}))
    assert isinstance(again, Accepted)
    # address and greeting keep their results; email resumes in confirming with its value
    assert TaskStarted("email", resumed=True) in again.effects
    assert flow.configuration == ("email", "email__confirming")
    assert flow.values("email") == {"email": "ada@x.org"}
    assert flow.results["address"] == Address("1 Main St", "Paris")
    flow.handle(UserSpoke("yes"))
    final = flow.handle(ToolCalled("confirm_email", {}))
    all_effects = effects + list(back.effects) + list(again.effects) + list(final.effects)
    assert completed(all_effects) == ["name", "address", "greeting", "name", "email"]
    assert flow.result.task_results["name"] == Name("Augusta")


def test_a_dependent_result_is_invalidated_and_rerun() -> None:
    flow = Interpreter(compile_chart(tasks(depends=True)))
    run_to_email(flow)
    flow.handle(ToolCalled("out_of_scope", {"task_ids": ["name"]}))
    assert "greeting" not in flow.results and "address" in flow.results
    outcome = flow.handle(ToolCalled("update_name", {"name": "Augusta"}))
    assert TaskStarted("greeting", resumed=False) in outcome.effects  # type: ignore[union-attr]
    assert flow.configuration == ("greeting", "greeting__collecting")
    flow.handle(ToolCalled("update_greeting", {"text": "Hello Augusta"}))
    assert flow.configuration == ("email", "email__confirming")  # email resumes after
    assert flow.results["greeting"] == {"text": "Hello Augusta"}


def test_an_interrupted_task_that_depends_on_the_target_restarts_fresh() -> None:
    specs = tasks(depends=True)
    flow = Interpreter(compile_chart(specs[:3]))
    flow.start()
    flow.handle(ToolCalled("update_name", {"name": "Ada"}))
    flow.handle(ToolCalled("update_address", {"street": "1 Main St", "city": "Paris"}))
    assert flow.active_task == "greeting"
    flow.handle(ToolCalled("out_of_scope", {"task_ids": ["name"]}))
    outcome = flow.handle(ToolCalled("update_name", {"name": "Augusta"}))
    assert TaskStarted("greeting", resumed=False) in outcome.effects  # type: ignore[union-attr]


def test_repeated_and_chained_regressions() -> None:
    flow = Interpreter(compile_chart(tasks()))
    run_to_email(flow)
    # chained: from email back to address, then from address back to name
    flow.handle(ToolCalled("out_of_scope", {"task_ids": ["address"]}))
    assert flow.active_task == "address"
    flow.handle(ToolCalled("update_address", {"street": "2 High St"}))  # partial
    assert flow.handle(ToolCalled("out_of_scope", {"task_ids": ["name"]})).ok
    flow.handle(ToolCalled("update_name", {"name": "Augusta"}))
    # address resumes with the street it had collected
    assert flow.configuration == ("address", "address__collecting")
    assert flow.values("address") == {"street": "2 High St"}
    flow.handle(ToolCalled("update_address", {"city": "Lyon"}))
    assert flow.configuration == ("email", "email__confirming")
    # repeated: go back to name twice more
    for name in ("Bea", "Cleo"):
        assert flow.handle(ToolCalled("out_of_scope", {"task_ids": ["name"]})).ok
        flow.handle(ToolCalled("update_name", {"name": name}))
        assert flow.configuration == ("email", "email__confirming")
    flow.handle(UserSpoke("yes"))
    flow.handle(ToolCalled("confirm_email", {}))
    results = flow.result.task_results
    assert results["name"] == Name("Cleo")
    assert results["address"] == Address("2 High St", "Lyon")
    assert results["greeting"] == {"text": "Hello Ada"}


def test_several_targets_rerun_in_the_order_requested() -> None:
    flow = Interpreter(compile_chart(tasks()))
    run_to_email(flow)
    flow.handle(ToolCalled("out_of_scope", {"task_ids": ["greeting", "name"]}))
    assert flow.active_task == "greeting"
    flow.handle(ToolCalled("update_greeting", {"text": "Hi"}))
    assert flow.active_task == "name"
    flow.handle(ToolCalled("update_name", {"name": "Zed"}))
    assert flow.configuration == ("email", "email__confirming")


def test_first_task_offers_no_regression_and_targets_exclude_the_active_task() -> None:
    flow = Interpreter(compile_chart(tasks()))
    flow.start()
    assert "out_of_scope" not in flow.tools
    flow.handle(ToolCalled("update_name", {"name": "Ada"}))
    assert "out_of_scope" in flow.tools
    assert flow.regression_targets() == ("name",)


def test_decline_fails_the_group_unless_return_exceptions() -> None:
    flow = Interpreter(compile_chart(tasks()))
    flow.start()
    flow.handle(ToolCalled("update_name", {"name": "Ada"}))
    flow.handle(ToolCalled("decline_address", {"reason": "private"}))
    assert flow.configuration == ("flow_failed",)
    assert flow.error == Declined("address", "private")

    tolerant = Interpreter(compile_chart(tasks(), return_exceptions=True))
    tolerant.start()
    tolerant.handle(ToolCalled("update_name", {"name": "Ada"}))
    tolerant.handle(ToolCalled("decline_address", {"reason": "private"}))
    assert tolerant.active_task == "greeting"
    tolerant.handle(ToolCalled("update_greeting", {"text": "Hi"}))
    tolerant.handle(ToolCalled("update_email", {"email": "a@b.co"}))
    tolerant.handle(UserSpoke("yes"))
    tolerant.handle(ToolCalled("confirm_email", {}))
    assert tolerant.result.task_results["address"] == Declined("address", "private")


@pytest.mark.parametrize("return_exceptions", [False, True])
def test_session_closed_ends_the_group_either_way(return_exceptions: bool) -> None:
    flow = Interpreter(compile_chart(tasks(), return_exceptions=return_exceptions))
    flow.start()
    flow.handle(ToolCalled("update_name", {"name": "Ada"}))
    outcome = flow.handle(SessionClosed("caller hung up"))
    assert outcome.ok
    assert flow.configuration == ("flow_failed",)
    assert flow.error == SessionClosedError("address", "caller hung up")
    assert flow.results["name"] == Name("Ada")  # collected data is kept
    assert flow.handle(ToolCalled("update_address", {"street": "x"})).code == "finished"  # type: ignore[union-attr]
