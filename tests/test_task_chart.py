"""A single declarative task: collecting -> confirming -> complete | declined | failed."""

from __future__ import annotations

import copy
import pickle
from dataclasses import dataclass

import pytest
from taskchart.runtime import (
    Accepted,
    Complete,
    Fail,
    Instruct,
    Interpreter,
    Rejected,
    SetTools,
    TaskCompleted,
    ToolCalled,
    UserSpoke,
)
from taskchart.statecharts import (
    Confirmation,
    Declined,
    Field,
    FieldError,
    NoInput,
    SessionClosed,
    StartOver,
    TaskFailure,
    Tool,
    compile_chart,
    declarative_task,
)
from taskchart.statecharts.task import UPDATE

from .conftest import EmailResult, email_flow, make_email_task


def test_text_modality_completes_on_update_without_confirmation() -> None:
    flow = email_flow()
    outcome = flow.handle(ToolCalled("update_email", {"email_address": "Ada@Example.COM"}))
    assert isinstance(outcome, Accepted)
    assert flow.configuration == ("flow_done",)
    assert flow.result == EmailResult("Ada@example.com")
    assert Complete(EmailResult("Ada@example.com")) in outcome.effects


def test_audio_modality_reads_back_and_needs_a_user_answer() -> None:
    flow = email_flow(modality="audio")
    flow.handle(UserSpoke("my email is ada at example dot com", "audio"))
    outcome = flow.handle(ToolCalled("update_email", {"email_address": "ada at example dot com"}))
    assert flow.configuration == ("email", "email__confirming")
    assert isinstance(outcome, Accepted)
    assert "ada@example.com" in outcome.message
    assert SetTools(("update_email", "confirm_email", "correct_email", "decline_email")) in (
        outcome.effects
    )
    early = flow.handle(ToolCalled("confirm_email", {}))
    assert isinstance(early, Rejected) and early.code == "guard_failed"
    assert flow.configuration == ("email", "email__confirming")
    flow.handle(UserSpoke("yes", "audio"))
    done = flow.handle(ToolCalled("confirm_email", {}))
    assert done.ok and flow.result == EmailResult("ada@example.com")


def test_confirm_in_same_turn_as_change_never_completes_with_the_stale_value() -> None:
    flow = email_flow(modality="audio")
    flow.handle(ToolCalled("update_email", {"email_address": "old@example.com"}))
    flow.handle(UserSpoke("no, it is new at example dot com", "audio"))
    confirm, update = flow.handle_batch(
        [
            ToolCalled("confirm_email", {}),
            ToolCalled("update_email", {"email_address": "new@example.com"}),
        ]
    )
    assert isinstance(confirm, Rejected) and confirm.code == "guard_failed"
    assert update.ok
    assert flow.values("email") == {"email_address": "new@example.com"}
    assert not flow.done
    flow.handle(UserSpoke("yes", "audio"))
    assert flow.handle(ToolCalled("confirm_email", {})).ok
    assert flow.result == EmailResult("new@example.com")


@pytest.mark.parametrize(
    ("policy", "modality", "confirms"),
    [
        (Confirmation.NEVER, "audio", False),
        (Confirmation.ALWAYS, "text", True),
        (Confirmation.AUDIO_ONLY, "text", False),
        (Confirmation.AUDIO_ONLY, "audio", True),
    ],
)
def test_confirmation_policy(policy: Confirmation, modality: str, confirms: bool) -> None:
    flow = email_flow(policy, modality=modality)
    flow.handle(ToolCalled("update_email", {"email_address": "a@example.com"}))
    expected = ("email", "email__confirming") if confirms else ("flow_done",)
    assert flow.configuration == expected


def test_correct_returns_to_collecting_and_keeps_tools_honest() -> None:
    flow = email_flow(Confirmation.ALWAYS)
    assert flow.tools == ("update_email", "decline_email")
    flow.handle(ToolCalled("update_email", {"email_address": "a@example.com"}))
    assert "confirm_email" in flow.tools
    assert flow.handle(ToolCalled("correct_email", {})).ok
    assert flow.configuration == ("email", "email__collecting")
    assert "confirm_email" not in flow.tools


def test_decline_fails_the_flow_with_a_typed_error() -> None:
    flow = email_flow()
    outcome = flow.handle(ToolCalled("decline_email", {"reason": "no email"}))
    assert isinstance(outcome, Accepted)
    assert flow.configuration == ("flow_failed",)
    assert flow.error == Declined("email", "no email")
    assert isinstance(outcome.effects[-2], Fail) or any(
        isinstance(e, Fail) for e in outcome.effects
    )
    assert flow.result is None


@dataclass
class Behavioral:
    strengths: str
    weaknesses: str
    work_style: str


def behavioral_task():  # type: ignore[no-untyped-def]
    """The seed's unordered BehavioralTask, with no _check_completion code."""
    return declarative_task(
        "behavioral",
        Behavioral,
        fields=[Field("strengths"), Field("weaknesses"), Field("work_style")],
        confirmation=Confirmation.NEVER,
        tools=[
            Tool("record_strengths", UPDATE, "", {"strengths_summary": "strengths"}),
            Tool("record_weaknesses", UPDATE, "", {"weaknesses_summary": "weaknesses"}),
            Tool("record_work_style", UPDATE, "", {"work_style": "work_style"}),
        ],
    )


@pytest.mark.parametrize(
    "order",
    [
        ("record_strengths", "record_weaknesses", "record_work_style"),
        ("record_work_style", "record_strengths", "record_weaknesses"),
        ("record_weaknesses", "record_work_style", "record_strengths"),
    ],
)
def test_unordered_collection_completes_after_the_last_field_in_any_order(
    order: tuple[str, ...],
) -> None:
    args = {
        "record_strengths": {"strengths_summary": "curious"},
        "record_weaknesses": {"weaknesses_summary": "impatient"},
        "record_work_style": {"work_style": "pairs often"},
    }
    flow = Interpreter(compile_chart(behavioral_task()))
    flow.start()
    first = flow.handle(ToolCalled(order[0], args[order[0]]))
    assert isinstance(first, Accepted) and "Still needed" in first.message
    flow.handle(ToolCalled(order[1], args[order[1]]))
    assert not flow.done
    last = flow.handle(ToolCalled(order[2], args[order[2]]))
    assert isinstance(last, Accepted)
    assert flow.result == Behavioral("curious", "impatient", "pairs often")
    assert [e for e in last.effects if isinstance(e, TaskCompleted)] == [
        TaskCompleted("behavioral", Behavioral("curious", "impatient", "pairs often"))
    ]


def test_start_instructs_the_model_and_offers_the_tools() -> None:
    spec = declarative_task(
        "name", fields=[Field("name")], instructions="Ask for the caller's name."
    )
    effects = Interpreter(compile_chart(spec)).start()
    assert Instruct("Ask for the caller's name.", "name") in effects
    assert SetTools(("update_name", "decline_name")) in effects  # nothing to confirm yet


@pytest.mark.parametrize(
    ("field", "raw", "value"),
    [
        (Field("n", int), "42", 42),
        (Field("n", int), 7.0, 7),
        (Field("b", bool), "yes", True),
        (Field("b", bool), False, False),
        (Field("x", float), "2.5", 2.5),
        (Field("s"), "  padded  ", "padded"),
        (Field("s"), "line one\nline two\tend", "line one\nline two\tend"),
        (Field("s"), "Zoë 👩\u200d💻", "Zoë 👩\u200d💻"),
        (Field("n", int), "١٢٣", 123),  # decimal digits of any script
        (Field("x", float), 10**50, 1e50),
    ],
)
def test_field_coercion(field: Field, raw: object, value: object) -> None:
    assert field.clean(raw) == value


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        (Field("n", int), True, "n must be a whole number"),
        (Field("n", int), "forty", "n must be a whole number"),
        (Field("b", bool), "maybe", "b must be true or false"),
        (Field("s"), "", "s must not be empty"),
        (Field("s"), "x" * 5000, "too long"),
        (Field("s"), ["a"], "s must be text"),
        (Field("s"), "Ada\x00Lovelace", r"s contains a character that is not text \(U\+0000\)"),
        (Field("s"), "\ud800", r"not text \(U\+D800\)"),  # UTF-8 cannot carry it
        # numbers int() or JSON cannot take are refused, not raised as ValueError
        (Field("n", int), "²", "n must be a whole number"),
        (Field("n", int), "1" * 5000, "n is too long"),
        pytest.param(Field("n", int), 10**5000, "n is too long", id="int-5000-digits"),
        (Field("x", float), "nan", "x must be a finite number"),
        (Field("x", float), float("inf"), "x must be a finite number"),
        (Field("x", float), "1e400", "x must be a finite number"),
        (Field("x", float), 10**400, "x must be a finite number"),
        pytest.param(
            Field("s"), 10**5000, "s must be text, got <a int that cannot be shown>", id="text-int"
        ),
    ],
)
def test_field_rejections(field: Field, raw: object, message: str) -> None:
    with pytest.raises(FieldError, match=message):
        field.clean(raw)


def test_invalid_specs_are_refused_at_definition_time() -> None:
    with pytest.raises(ValueError, match="must be an identifier"):
        declarative_task("bad id", fields=[Field("x")])
    with pytest.raises(ValueError, match="duplicate field"):
        declarative_task("t", fields=[Field("x"), Field("x")])
    with pytest.raises(ValueError, match="unknown fields"):
        declarative_task("t", fields=[Field("x")], tools=[Tool("set_y", UPDATE, "", {"y": "y"})])
    with pytest.raises(ValueError, match="not earlier tasks"):
        compile_chart([declarative_task("a", fields=[Field("x")], depends_on=["b"])])
    with pytest.raises(ValueError, match="duplicate task ids"):
        compile_chart([declarative_task("a", fields=[Field("x")])] * 2)


def test_declarative_task_options_are_the_spec_s_own_with_its_defaults() -> None:
    spec = declarative_task("a", fields=[Field("x")], depends_on=["b"], routes=None, subject="X")
    assert (spec.depends_on, spec.routes, spec.confirmation, spec.max_reprompts) == (
        ("b",),
        {},
        Confirmation.AUDIO_ONLY,
        2,
    )
    assert [t.name for t in spec.tools] == ["update_a", "confirm_a", "correct_a", "decline_a"]
    assert spec.tools[0].description.startswith("Record the X the user gave.")
    with pytest.raises(TypeError, match="routs"):
        declarative_task("a", fields=[Field("x")], routs={})  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "task_id", ["dispatch", "flow_done", "update", "confirm", "regress", "send", "model"]
)
def test_task_ids_the_chart_uses_itself_are_refused(task_id: str) -> None:
    # a task named after a chart state, event or python-statemachine attribute
    # would end the flow at once or shadow the library's own names
    other = declarative_task("first", fields=[Field("x")])
    with pytest.raises(ValueError, match=rf"\['{task_id}'\] are reserved.*{task_id}_task"):
        compile_chart([other, declarative_task(task_id, fields=[Field("v")])])


def test_compiled_charts_are_cached_per_spec() -> None:
    spec = make_email_task()
    assert compile_chart(spec) is compile_chart(spec)
    assert compile_chart(spec).machine_class is not compile_chart(make_email_task()).machine_class


@pytest.mark.parametrize("kind", [TaskFailure, Declined, SessionClosed, NoInput, StartOver])
def test_task_failures_pickle_and_copy_as_themselves(kind: type[TaskFailure]) -> None:
    """Results cross process boundaries (pytest-xdist, workers) and get deep-copied."""
    error = kind("email_task", "the caller hung up")
    for again in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error)):
        assert type(again) is kind
        assert (again.task_id, again.message, str(again)) == (
            "email_task",
            "the caller hung up",
            "the caller hung up",
        )
        assert again == error
