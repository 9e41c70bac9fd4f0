"""The transition table of a task or a flow, as plain data.

Rules of this file: rows and states only, no callables; a guard or action is
a name, resolved by :mod:`taskchart.statecharts.bindings`. State ids are
prefixed with the task id (``email__collecting``) because state ids are
global to a chart.

Theory of operation: every flow, a single task included, is a sequence of
task compounds plus a transient ``dispatch`` state and two finals,
``flow_done`` and ``flow_failed``. A task compound holds the task's own
states and a deep history state, so a task interrupted by a regression
resumes exactly where it was. ``dispatch`` is initial: on entry it plans the
next task, and eventless transitions enter that task fresh or through its
history.

>>> from taskchart.statecharts import Field, declarative_task
>>> states, rows = task_table(declarative_task("name", fields=[Field("name")]), first=True)
>>> sorted({r.event for r in rows if r.event})[:3]
['confirm', 'correct', 'decline']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from .task import (
    COMPLETE,
    CONFIRM,
    CORRECT,
    DECLINE,
    FAIL,
    KEY,
    KEYS_TIMEOUT,
    TIMEOUT,
    UPDATE,
    TaskSpec,
)

__all__ = [
    "ACTIVE",
    "COLLECTING",
    "CONFIRMING",
    "DISPATCH",
    "FLOW_DONE",
    "FLOW_FAILED",
    "REGRESS",
    "StateDef",
    "TransitionDef",
    "dispatch_rows",
    "flow_table",
    "sid",
    "task_table",
]

REGRESS = "regress"
DISPATCH = "dispatch"
FLOW_DONE = "flow_done"
FLOW_FAILED = "flow_failed"

#: Task-level states, in drawing order.
COLLECTING, CONFIRMING, ACTIVE = "collecting", "confirming", "active"
COMPLETE_STATE, DECLINED_STATE, FAILED_STATE = "complete", "declined", "failed"


@attrs.frozen
class StateDef:
    """One state of the table: id, owning task (or None), kind."""

    id: str
    task: str | None
    kind: str  # "compound" | "atomic" | "final" | "transient" | "history"
    initial: bool = False


@attrs.frozen
class TransitionDef:
    """One row of the transition table.

    ``event`` is None for eventless transitions. ``guards`` and ``actions``
    are names of :class:`FlowModel` methods, called with the task id.
    ``internal`` rows stay in ``source`` (``target == source``) and run their
    actions without exiting or entering any state.
    """

    source: str
    target: str
    event: str | None
    guards: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    internal: bool = False
    task: str | None = None

    @property
    def label(self) -> str:
        guard = f" [{' & '.join(self.guards)}]" if self.guards else ""
        return f"{self.event or ''}{guard}"


def sid(task_id: str, state: str) -> str:
    return f"{task_id}__{state}"


def task_table(spec: TaskSpec, first: bool) -> tuple[list[StateDef], list[TransitionDef]]:
    t = spec.id
    row: Callable[..., TransitionDef] = lambda s, d, e, g=(), a=(), i=False: TransitionDef(  # noqa: E731
        sid(t, s) if s != t else t, d if d in (DISPATCH,) else sid(t, d), e, g, a, i, t
    )
    states = [StateDef(t, t, "compound"), StateDef(sid(t, "h"), t, "history")]
    rows: list[TransitionDef] = []
    if spec.kind == "implicit":
        states += [
            StateDef(sid(t, ACTIVE), t, "atomic", True),
            StateDef(sid(t, COMPLETE_STATE), t, "final"),
            StateDef(sid(t, FAILED_STATE), t, "final"),
        ]
        rows += [
            row(ACTIVE, COMPLETE_STATE, COMPLETE, (), ("complete_task",)),
            row(ACTIVE, FAILED_STATE, FAIL, (), ("fail_task",)),
        ]
        open_states = [ACTIVE]
    else:
        states += [
            StateDef(sid(t, COLLECTING), t, "atomic", True),
            StateDef(sid(t, CONFIRMING), t, "atomic"),
            StateDef(sid(t, COMPLETE_STATE), t, "final"),
            StateDef(sid(t, DECLINED_STATE), t, "final"),
            StateDef(sid(t, FAILED_STATE), t, "final"),
        ]
        collected = "all_fields_collected"
        confirmed: tuple[str, ...] = ("value_unchanged_since_readback",)
        if spec.confirms_by_repetition:
            confirmed += ("repetition_matches",)
        rows += [
            row(COLLECTING, CONFIRMING, UPDATE, (collected, "needs_confirmation"), ("store",)),
            row(COLLECTING, COMPLETE_STATE, UPDATE, (collected,), ("store", "complete_task")),
            row(COLLECTING, COLLECTING, UPDATE, (), ("store",), True),
            row(CONFIRMING, CONFIRMING, UPDATE, (), ("store",)),
            row(CONFIRMING, COMPLETE_STATE, CONFIRM, confirmed, ("complete_task",)),
            row(CONFIRMING, COLLECTING, CORRECT),
        ]
        if spec.confirm_heard:  # one call confirms what the conversation shows was heard
            rows.append(
                row(
                    COLLECTING,
                    COMPLETE_STATE,
                    CONFIRM,
                    ("heard_in_conversation",),
                    ("store_heard", "complete_task"),
                )
            )
        open_states = [COLLECTING, CONFIRMING]
        if spec.keypad is not None:
            rows += _keypad_rows(row)
        for s in open_states:
            rows.append(row(s, DECLINED_STATE, DECLINE, (), ("decline_task",)))
        for s in open_states:
            rows.append(row(s, FAILED_STATE, FAIL, (), ("fail_task",)))
    if spec.no_input_timeout is not None:
        for s in open_states:
            rows.append(row(s, s, TIMEOUT, ("reprompts_left",), ("count_reprompt",), True))
            rows.append(row(s, FAILED_STATE, TIMEOUT, (), ("no_input",)))
    rows.append(TransitionDef(t, DISPATCH, f"done.state.{t}", task=t))
    if not first:
        rows.append(
            TransitionDef(
                t, DISPATCH, REGRESS, ("regression_targets_visited",), ("begin_regression",), task=t
            )
        )
    return states, rows


def _keypad_rows(row: Callable[..., TransitionDef]) -> list[TransitionDef]:
    """Tones fill a key buffer; the last key, the stop key or a pause ends the entry.

    Too few keys re-prompt while retries are left, then fail the task (LiveKit's rule).
    """
    rows: list[TransitionDef] = []
    ends = ("press_key", "take_keys")
    retry = ("keypad_retries_left",)
    stop_retry = ("is_stop_key", *retry)
    rows += [
        row(COLLECTING, COLLECTING, KEY, stop_retry, ("reject_keys",), True),
        row(COLLECTING, FAILED_STATE, KEY, ("is_stop_key",), ("fail_keys",)),
        row(COLLECTING, CONFIRMING, KEY, ("key_completes", "needs_confirmation"), ends),
        row(COLLECTING, COMPLETE_STATE, KEY, ("key_completes",), (*ends, "complete_task")),
        row(COLLECTING, COLLECTING, KEY, (), ("press_key", "arm_keys_timer"), True),
        row(COLLECTING, COLLECTING, KEYS_TIMEOUT, retry, ("reject_keys",), True),
        row(COLLECTING, FAILED_STATE, KEYS_TIMEOUT, (), ("fail_keys",)),
        # a new entry while a value awaits confirmation replaces it (and is read back)
        row(CONFIRMING, CONFIRMING, KEY, stop_retry, ("reject_keys",), True),
        row(CONFIRMING, FAILED_STATE, KEY, ("is_stop_key",), ("fail_keys",)),
        row(CONFIRMING, CONFIRMING, KEY, ("key_completes",), ends),
        row(CONFIRMING, CONFIRMING, KEY, (), ("press_key", "arm_keys_timer"), True),
        row(CONFIRMING, CONFIRMING, KEYS_TIMEOUT, retry, ("reject_keys",), True),
        row(CONFIRMING, FAILED_STATE, KEYS_TIMEOUT, (), ("fail_keys",)),
    ]
    return rows


def dispatch_rows(order: Sequence[str]) -> list[TransitionDef]:
    rows = [TransitionDef(DISPATCH, FLOW_FAILED, None, ("flow_failed",))]
    for t in order:
        rows.append(TransitionDef(DISPATCH, t, None, ("next_fresh",), task=t))
        rows.append(TransitionDef(DISPATCH, sid(t, "h"), None, ("next_resume",), task=t))
    rows.append(TransitionDef(DISPATCH, FLOW_DONE, None))
    return rows


def flow_table(tasks: Sequence[TaskSpec]) -> tuple[list[StateDef], list[TransitionDef]]:
    """The whole flow's states and rows: ``dispatch``, each task in order, the finals."""
    states: list[StateDef] = [StateDef(DISPATCH, None, "transient", True)]
    rows: list[TransitionDef] = []
    for i, spec in enumerate(tasks):
        s, r = task_table(spec, first=i == 0)
        states += s
        rows += r
    rows += dispatch_rows([t.id for t in tasks])
    states += [StateDef(FLOW_DONE, None, "final"), StateDef(FLOW_FAILED, None, "final")]
    return states, rows
