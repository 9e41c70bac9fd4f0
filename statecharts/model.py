"""The data a chart acts on, and the callbacks its transitions call.

Rules of this file: the model holds plain data only (values, results,
counters), every mutation happens in a callback named in the transition
table, and nothing here performs I/O. The model reports what happened as
*signals* (:mod:`taskchart.statecharts.signals`) in ``signals``; the runtime
turns them into effects.

Theory of operation: a flow is a sequence of tasks. ``dispatch`` is a
transient state entered whenever a task ends or the caller regresses; its
``plan_next`` callback picks the next task and whether it starts fresh or
resumes from its history. Regression marks the targets for a fresh re-run,
invalidates the results of tasks that depend on them, and remembers the
interrupted task so it resumes where it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from .failures import (
    FAILURE_TYPES,
    Declined,
    NoInput,
    NoMatch,
    SessionClosed,
    StartOver,
    TaskFailure,
    gave_up,
)
from .signals import (
    ArmTimer,
    DisarmTimer,
    EnterTask,
    FlowDone,
    KeysShort,
    ReadBack,
    Regress,
    Repeat,
    Reprompt,
    Signal,
    TaskDone,
)
from .task import GAVE_UP, THEN, Modality, TaskSpec

__all__ = [
    "DATA_FIELDS",
    "FAILURE_TYPES",
    "Declined",
    "FlowModel",
    "NoInput",
    "NoMatch",
    "SessionClosed",
    "Signal",
    "StartOver",
    "TaskFailure",
    "TaskGroupResult",
    "gave_up",
]


def _copy_nested(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v.copy() for k, v in value.items()}


def _same(value: Any) -> Any:
    return value


#: The flow's data, field by field: name, and how to copy it (for rollback).
#: Everything a transition may change is here, so a checkpoint and a
#: snapshot are derived from this one list (:meth:`FlowModel.checkpoint`,
#: :func:`taskchart.runtime.snapshots.snapshot`).
DATA_FIELDS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("values", _copy_nested),
    ("results", dict),
    ("visited", list),
    ("interrupted", list),
    ("queue", list),
    ("plan", _same),
    ("user_turn", _same),
    ("readback_turn", dict),
    ("readbacks", dict),
    ("reprompts", dict),
    ("no_matches", dict),
    ("keys", _copy_nested),
    ("keypad_retries", dict),
    ("modality", _same),
    ("closed", _same),
    ("failed_task", _same),
    ("exited", _same),
)

#: What the user's turns set (``UserSpoke``), never a transition: a checkpoint
#: leaves them alone, so starting a flow keeps the modality it was given.
TURN_FIELDS = frozenset({"user_turn", "modality"})

_CHECKPOINTED = tuple((n, c) for n, c in DATA_FIELDS if n not in TURN_FIELDS)


def _checkpoint_function() -> Callable[[Any], tuple[Any, ...]]:
    """``checkpoint`` written out from :data:`_CHECKPOINTED` once (it runs on every event:
    a loop over the fields cost a sixth of an event)."""
    namespace: dict[str, Any] = {}
    parts = []
    for i, (name, copy) in enumerate(_CHECKPOINTED):
        if copy is _same:
            parts.append(f"m.{name}")
        elif copy is _copy_nested:  # inlined: a call per field is a tenth of the checkpoint
            parts.append(f"{{k: v.copy() for k, v in m.{name}.items()}}")
        elif copy is dict or copy is list:
            parts.append(f"m.{name}.copy()")
        else:
            namespace[f"copy_{i}"] = copy
            parts.append(f"copy_{i}(m.{name})")
    exec(f"def checkpoint(m):\n    return ({', '.join(parts)},)", namespace)
    function: Callable[[Any], tuple[Any, ...]] = namespace["checkpoint"]
    return function


_CHECKPOINT = _checkpoint_function()


def _rollback_function() -> Callable[[Any, tuple[Any, ...]], None]:
    """``rollback`` written out from :data:`_CHECKPOINTED` once: one unpacking assignment
    (it runs for every new or restored flow); a checkpoint of another length raises."""
    namespace: dict[str, Any] = {}
    targets = ", ".join(f"m.{name}" for name, _ in _CHECKPOINTED)
    exec(f"def rollback(m, saved):\n    {targets}, = saved", namespace)
    function: Callable[[Any, tuple[Any, ...]], None] = namespace["rollback"]
    return function


_ROLLBACK = _rollback_function()


class FlowModel:
    """Mutable data of one running flow (the ``model`` both engines act on).

    ``tasks``, ``order`` and ``return_exceptions`` describe the flow; the
    fields of :data:`DATA_FIELDS` are its data; ``state`` is the engine's
    configuration and ``signals`` what the last callbacks reported.
    """

    def __init__(self, tasks: Sequence[TaskSpec], *, return_exceptions: bool = False) -> None:
        self.state: Any = None
        self.tasks: dict[str, TaskSpec] = {t.id: t for t in tasks}
        self.order: tuple[str, ...] = tuple(t.id for t in tasks)
        self.return_exceptions = return_exceptions
        self.values: dict[str, dict[str, Any]] = {t: {} for t in self.order}
        self.results: dict[str, Any] = {}
        self.visited: list[str] = []
        self.interrupted: list[str] = []
        self.queue: list[str] = []
        self.plan: tuple[str, str] | None = None
        self.user_turn = 0
        self.readback_turn: dict[str, int] = {}
        #: Read-backs so far per task (LiveKit spells every one after the first).
        self.readbacks: dict[str, int] = {}
        #: No-input re-prompts so far per task (reset when the task completes).
        self.reprompts: dict[str, int] = {}
        #: No-match re-prompts so far per task (reset when the task completes).
        self.no_matches: dict[str, int] = {}
        self.keys: dict[str, list[str]] = {}
        #: Short keypad entries re-prompted so far per task.
        self.keypad_retries: dict[str, int] = {}
        self.modality: Modality = "text"
        self.closed = False
        self.failed_task: str | None = None
        #: A handler gave up into its exit: the flow ends once the exit's task is done.
        self.exited = False
        self.signals: list[Signal] = []
        #: Tasks an earlier task routes to (an exit, a menu option): entered only
        #: through a route, never in order.
        position = {tid: i for i, tid in enumerate(self.order)}
        self.on_demand: tuple[str, ...] = tuple(
            sorted(
                {
                    target
                    for spec in tasks
                    for target in spec.route_table.values()
                    if position.get(target, -1) > position[spec.id]
                }
            )
        )

    # -- copies, for rollback and snapshots ------------------------------------
    def checkpoint(self) -> tuple[Any, ...]:
        """A copy of every data field a transition may change, for :meth:`rollback`."""
        return _CHECKPOINT(self)

    def rollback(self, saved: tuple[Any, ...]) -> None:
        _ROLLBACK(self, saved)
        self.signals.clear()

    # -- guards ------------------------------------------------------------------
    def all_fields_collected(self, task_id: str, values: Mapping[str, Any] | None) -> bool:
        have = self.values[task_id]
        incoming = values or {}
        return all(name in have or name in incoming for name in self.tasks[task_id].required_fields)

    def needs_confirmation(self, task_id: str) -> bool:
        return self.tasks[task_id].confirmation.required(self.modality)

    def value_unchanged_since_readback(self, task_id: str) -> bool:
        """The user has spoken since the value was last read back.

        Every change re-enters ``confirming`` and so reads the value back
        again: a confirmation always answers the value the user last heard.
        """
        return self.readback_turn.get(task_id, self.user_turn) < self.user_turn

    def repetition_matches(self, task_id: str, repeated: Mapping[str, Any] | None) -> bool:
        """The value the user repeated is the value stored (confirmation by repetition)."""
        have = self.values[task_id]
        return bool(repeated) and all(have.get(k) == v for k, v in (repeated or {}).items())

    def heard_in_conversation(
        self, task_id: str, heard: bool, repeated: Mapping[str, Any] | None
    ) -> bool:
        """The conversation showed this value read back and answered, and it is complete."""
        return heard is True and self.all_fields_collected(task_id, repeated)

    def is_stop_key(self, task_id: str, digit: str) -> bool:
        keypad = self.tasks[task_id].keypad
        return keypad is not None and digit == keypad.stop_key

    def key_completes(self, task_id: str, digit: str) -> bool:
        """This key is the last one the keypad entry needs."""
        keypad = self.tasks[task_id].keypad
        return keypad is not None and len(self.keys.get(task_id, ())) + 1 == keypad.num_digits

    def keypad_retries_left(self, task_id: str) -> bool:
        keypad = self.tasks[task_id].keypad
        return keypad is not None and self.keypad_retries.get(task_id, 0) < keypad.max_retries

    def retries_used(self, task_id: str, kind: str) -> int:
        """The re-prompts that count against ``kind``'s limit: its own, or with
        ``shared_retries`` those of both kinds."""
        if self.tasks[task_id].shared_retries:
            return self.reprompts.get(task_id, 0) + self.no_matches.get(task_id, 0)
        counts = self.reprompts if kind == "no_input" else self.no_matches
        return counts.get(task_id, 0)

    def reprompts_left(self, task_id: str) -> bool:
        return self.retries_used(task_id, "no_input") < self.tasks[task_id].max_reprompts

    def no_matches_left(self, task_id: str) -> bool:
        handler = self.tasks[task_id].no_match
        return handler is not None and self.retries_used(task_id, "no_match") < handler.max_retries

    def keys_refused(self, task_id: str, digit: str) -> bool:
        """The entry this key completes is one the keypad's field refuses (no menu option)."""
        keypad = self.tasks[task_id].keypad
        if keypad is None:
            return False
        entry = " ".join([*self.keys.get(task_id, ()), digit])
        try:
            self.tasks[task_id].field_map[keypad.field].clean(entry)
        except ValueError:
            return True
        return False

    def is_repeat_key(self, task_id: str, digit: str) -> bool:
        keypad = self.tasks[task_id].keypad
        return keypad is not None and digit == keypad.repeat_key

    def routed(self, task_id: str, key: str) -> bool:
        """The ended task takes route ``key``: its result's ``key``, a handler that gave
        up (``no_input``, ``no_match``), or ``then`` for any completion."""
        if task_id not in self.results:
            return False
        result = self.results[task_id]
        if isinstance(result, Exception):
            return key in GAVE_UP and gave_up(result) == key
        return key == THEN or getattr(result, "key", None) == key

    def regression_targets_visited(self, task_id: str, task_ids: Sequence[str] = ()) -> bool:
        """Every target is a visited task that comes before ``task_id``."""
        position = self.order.index(task_id)
        earlier = set(self.order[:position])
        return bool(task_ids) and all(t in self.visited and t in earlier for t in task_ids)

    # -- actions -----------------------------------------------------------------
    def store(self, task_id: str, values: Mapping[str, Any] | None) -> None:
        if values:
            self.values[task_id].update(values)
        if self.keys.pop(task_id, None) is not None:  # spoken input replaces partial keys
            self.signals.append(DisarmTimer(f"{task_id}.keys"))

    def press_key(self, task_id: str, digit: str) -> None:
        self.keys.setdefault(task_id, []).append(digit)
        if self.tasks[task_id].no_input is not None:  # a key is input: silence ends
            self.signals.append(DisarmTimer(f"{task_id}.no_input"))

    def arm_keys_timer(self, task_id: str) -> None:
        keypad = self.tasks[task_id].keypad
        assert keypad is not None
        self.signals.append(ArmTimer(f"{task_id}.keys", keypad.timeout))

    def take_keys(self, task_id: str) -> None:
        keypad = self.tasks[task_id].keypad
        assert keypad is not None
        self.values[task_id][keypad.field] = " ".join(self.keys.pop(task_id, []))
        self.signals.append(DisarmTimer(f"{task_id}.keys"))

    def reject_keys(self, task_id: str) -> None:
        """Too few keys (stop key or pause) with retries left: drop them and ask again."""
        got = len(self.keys.pop(task_id, []))
        self.keypad_retries[task_id] = self.keypad_retries.get(task_id, 0) + 1
        self.signals.append(DisarmTimer(f"{task_id}.keys"))
        self.signals.append(KeysShort(task_id, got))

    def fail_keys(self, task_id: str) -> None:
        """Too few keys and no retry left: the task fails with LiveKit's words."""
        keypad = self.tasks[task_id].keypad
        assert keypad is not None
        got = len(self.keys.pop(task_id, []))
        self.signals.append(DisarmTimer(f"{task_id}.keys"))
        message = f"Digits input not fully received. Expect {keypad.num_digits} digits, got {got}"
        self.fail_task(task_id, TaskFailure(task_id, message))

    def count_reprompt(self, task_id: str) -> None:
        count = self.reprompts[task_id] = self.reprompts.get(task_id, 0) + 1
        self.signals.append(Reprompt(task_id, "no_input", count))
        seconds = self.tasks[task_id].no_input_timeout
        if seconds is not None:
            self.signals.append(ArmTimer(f"{task_id}.no_input", seconds))

    def count_no_match(self, task_id: str) -> None:
        count = self.no_matches[task_id] = self.no_matches.get(task_id, 0) + 1
        self.signals.append(Reprompt(task_id, "no_match", count))

    def drop_keys(self, task_id: str) -> None:
        """Forget a keypad entry the step refused."""
        if self.keys.pop(task_id, None) is not None:
            self.signals.append(DisarmTimer(f"{task_id}.keys"))

    def repeat_prompt(self, task_id: str) -> None:
        self.signals.append(Repeat(task_id))

    def enter_task(self, task_id: str) -> None:
        resumed = self.plan is not None and self.plan == (task_id, "resume")
        if not resumed:
            self.values[task_id] = {}
            self.readback_turn.pop(task_id, None)
            self.readbacks.pop(task_id, None)
            self.reprompts.pop(task_id, None)
            self.no_matches.pop(task_id, None)
            self.keys.pop(task_id, None)
            self.keypad_retries.pop(task_id, None)
        if task_id in self.interrupted:
            self.interrupted.remove(task_id)
        if task_id not in self.visited:
            self.visited.append(task_id)
        self.results.pop(task_id, None)
        self.plan = None
        self.signals.append(EnterTask(task_id, resumed))

    def readback(self, task_id: str) -> None:
        self.readback_turn[task_id] = self.user_turn
        count = self.readbacks[task_id] = self.readbacks.get(task_id, 0) + 1
        self.signals.append(ReadBack(task_id, count))

    def complete_task(self, task_id: str, result: Any = None) -> None:
        spec = self.tasks[task_id]
        if spec.kind == "declarative":
            result = spec.build_result(self.values[task_id])
        self.results[task_id] = result
        self.reprompts.pop(task_id, None)  # the step is done: its counters start again
        self.no_matches.pop(task_id, None)
        self.signals.append(TaskDone(task_id, "complete"))

    def fail_task(
        self, task_id: str, error: Exception | None = None, reason: str = "", kind: str = "failed"
    ) -> None:
        if error is None:
            cls = {"declined": Declined, "no_input": NoInput, "no_match": NoMatch}.get(
                kind, TaskFailure
            )
            default = {
                "declined": "the user declined",
                "no_input": "the user did not answer",
                "no_match": "nothing the user answered matched",
            }.get(kind, "the task failed")
            error = cls(task_id, reason or default)
        if isinstance(error, SessionClosed):
            self.closed = True
        self.results[task_id] = error
        key = gave_up(error)
        exit_to = self.tasks[task_id].route_table.get(key) if key else None
        if exit_to in self.tasks and not self.closed:
            self.exited = True  # the handler's exit takes the flow on, then ends it
        elif self.closed or not self.return_exceptions:
            self.failed_task = task_id
        self.signals.append(TaskDone(task_id, kind))

    def begin_regression(self, task_id: str, task_ids: Sequence[str] = ()) -> None:
        targets = [t for t in dict.fromkeys(task_ids) if t in self.tasks]
        dirty = set(targets)
        for tid in self.order:  # dependants, transitively, in order
            if any(dep in dirty for dep in self.tasks[tid].depends_on):
                dirty.add(tid)
        for tid in dirty:
            self.results.pop(tid, None)
        if task_id not in dirty and task_id not in self.interrupted:
            self.interrupted.append(task_id)
        self.queue = targets
        self.signals.append(Regress(task_id, tuple(targets)))

    def plan_next(self) -> None:
        self.plan = self._next_step()

    def _next_step(self) -> tuple[str, str] | None:
        if self.failed_task is not None:
            return None
        if self.queue:
            return (self.queue.pop(0), "fresh")
        if self.exited:
            return None
        for tid in self.order:
            if tid in self.results or tid in self.on_demand:
                continue
            return (tid, "resume" if tid in self.interrupted else "fresh")
        return None

    def is_next(self, task_id: str, mode: str) -> bool:
        return self.plan == (task_id, mode)

    def flow_failed(self) -> bool:
        return self.failed_task is not None

    def finish(self, outcome: Literal["done", "failed"]) -> None:
        self.signals.append(FlowDone(outcome))


class TaskGroupResult:
    """The result of a group: ``task_results`` keyed by task id, in add() order."""

    __slots__ = ("task_results",)

    def __init__(self, task_results: dict[str, Any]) -> None:
        self.task_results = task_results

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TaskGroupResult) and other.task_results == self.task_results

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TaskGroupResult(task_results={self.task_results!r})"
