"""The one-turn rules: going back wins, the caller's last word wins, confirmations last."""

from __future__ import annotations

from dataclasses import dataclass

from taskchart.runtime import Accepted, Interpreter, Rejected, ToolCalled, UserSpoke
from taskchart.statecharts import Confirmation, Declined, Field, compile_chart, declarative_task


@dataclass
class Email:
    email: str


@dataclass
class Name:
    first: str
    last: str


def group() -> Interpreter:
    email = declarative_task(
        "email_task", Email, fields=[Field("email")], confirmation=Confirmation.NEVER
    )
    name = declarative_task(
        "name_task",
        Name,
        fields=[Field("first"), Field("last")],
        confirmation=Confirmation.NEVER,
    )
    flow = Interpreter(compile_chart([email, name]))
    flow.start()
    assert flow.handle(ToolCalled("update_email_task", {"email": "ada@exmaple.com"})).ok
    assert flow.active_task == "name_task"
    return flow


def name_only() -> Interpreter:
    spec = declarative_task(
        "name_task", Name, fields=[Field("first"), Field("last")], confirmation=Confirmation.NEVER
    )
    flow = Interpreter(compile_chart(spec))
    flow.start()
    return flow


def test_going_back_wins_over_an_answer_in_the_same_turn() -> None:
    flow = group()
    back, update = flow.handle_batch(
        [
            ToolCalled("out_of_scope", {"task_ids": ["email_task"]}),
            ToolCalled("update_name_task", {"first": "Ada", "last": "Lovelace"}),
        ]
    )
    assert isinstance(back, Accepted)
    assert isinstance(update, Rejected) and update.code == "superseded"
    assert "went back to an earlier task" in update.message
    assert flow.active_task == "email_task"  # the correction happens
    assert "name_task" not in flow.results  # and the name did not complete behind it
    flow.handle(ToolCalled("update_email_task", {"email": "ada@example.com"}))
    assert flow.active_task == "name_task"


def test_going_back_after_the_answer_in_the_same_turn_also_wins() -> None:
    flow = group()
    update, back = flow.handle_batch(
        [
            ToolCalled("update_name_task", {"first": "Ada", "last": "Lovelace"}),
            ToolCalled("out_of_scope", {"task_ids": ["email_task"]}),
        ]
    )
    assert (update.code, back.ok) == ("superseded", True)  # type: ignore[union-attr]
    assert flow.active_task == "email_task" and flow.results.get("name_task") is None


def test_a_refused_going_back_leaves_the_other_calls_alone() -> None:
    flow = group()
    back, update = flow.handle_batch(
        [
            ToolCalled("out_of_scope", {"task_ids": ["no_such_task"]}),
            ToolCalled("update_name_task", {"first": "Ada", "last": "Lovelace"}),
        ]
    )
    assert isinstance(back, Rejected) and back.code != "superseded"
    assert isinstance(update, Accepted)
    assert flow.done and flow.results["name_task"] == Name("Ada", "Lovelace")


def test_two_updates_in_one_turn_merge_and_the_last_value_wins() -> None:
    flow = name_only()
    first, second = flow.handle_batch(
        [
            ToolCalled("update_name_task", {"first": "Ada", "last": "Byron"}),
            ToolCalled("update_name_task", {"last": "Lovelace"}),
        ]
    )
    assert first is second and first.ok  # processed once, one answer for both
    assert flow.result == Name("Ada", "Lovelace")


def test_update_then_decline_declines() -> None:
    flow = name_only()
    update, decline = flow.handle_batch(
        [
            ToolCalled("update_name_task", {"first": "Ada", "last": "Lovelace"}),
            ToolCalled("decline_name_task", {"reason": "changed my mind"}),
        ]
    )
    assert isinstance(update, Rejected) and update.code == "superseded"
    assert "declines the" in update.message
    assert decline.ok and isinstance(flow.error, Declined)


def test_decline_then_update_keeps_the_value() -> None:
    flow = name_only()
    decline, update = flow.handle_batch(
        [
            ToolCalled("decline_name_task", {"reason": "no"}),
            ToolCalled("update_name_task", {"first": "Ada", "last": "Lovelace"}),
        ]
    )
    assert isinstance(decline, Rejected) and "gives the" in decline.message
    assert update.ok and flow.result == Name("Ada", "Lovelace")


def test_a_merged_update_with_a_bad_field_is_refused_for_every_call() -> None:
    flow = name_only()
    one, two = flow.handle_batch(
        [
            ToolCalled("update_name_task", {"first": "Ada"}),
            ToolCalled("update_name_task", {"last": 7}),
        ]
    )
    assert one is two and isinstance(one, Rejected)
    assert flow.values() == {}


def test_confirmations_still_go_last_after_a_merged_update() -> None:
    spec = declarative_task("name_task", Name, fields=[Field("first"), Field("last")])
    flow = Interpreter(compile_chart(spec), modality="audio")
    flow.start()
    flow.handle(UserSpoke("Ada Lovelace", "audio"))
    confirm, one, two = flow.handle_batch(
        [
            ToolCalled("confirm_name_task", {}),
            ToolCalled("update_name_task", {"first": "Ada"}),
            ToolCalled("update_name_task", {"last": "Lovelace"}),
        ]
    )
    assert one is two and one.ok
    assert isinstance(confirm, Rejected) and confirm.code in ("guard_failed", "not_enabled")
    assert flow.values() == {"first": "Ada", "last": "Lovelace"} and flow.result is None
