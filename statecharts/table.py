"""The transition table of a task or a flow, as plain data.

Rules of this file: rows and states only, no callables; a guard or action is
a name, resolved by :mod:`taskchart.statecharts.bindings`. State ids are
prefixed with the task id (``email__collecting``) because state ids are
global to a chart.

Theory of operation: every flow, a single task included, is a sequence of
task compounds plus a transient ``dispatch`` state and two finals,
``flow_done`` and ``flow_failed``. A task compound holds the task's own
states and, unless it is the first task, a deep history state, so a task
interrupted by a regression resumes exactly where it was. ``dispatch`` is
initial: on entry it plans the next task, and eventless transitions enter
that task fresh or through its history. A table holds only what can happen:
rows and states the task spec rules out are left out (:func:`task_table`).

>>> from taskchart.statecharts import Field, declarative_task
>>> states, rows = task_table(declarative_task("name", fields=[Field("name")]), first=True)
>>> sorted({r.event for r in rows if r.event})[:3]
['confirm', 'correct', 'decline']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, TypeAlias

import attrs

from .task import (
    COMPLETE,
    CONFIRM,
    CORRECT,
    DECLINE,
    FAIL,
    KEY,
    KEYS_TIMEOUT,
    NO_MATCH,
    TIMEOUT,
    UPDATE,
    Confirmation,
    Keypad,
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
    "StateKind",
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


StateKind: TypeAlias = Literal["compound", "atomic", "final", "transient", "history"]


@attrs.frozen
class StateDef:
    """One state of the table: id, owning task (or None), kind."""

    id: str
    task: str | None
    kind: StateKind
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
    """A task's states and rows: only those the spec allows to happen.

    The confirmation policy decides the ways out of ``collecting``: NEVER has
    no ``confirming`` state, ALWAYS no update that completes unconfirmed,
    AUDIO_ONLY both, chosen by the ``needs_confirmation`` guard (the
    modality). A row whose event no tool, timer or keypad sends is left out,
    and so is a row whose guard the spec makes false (no retries or
    re-prompts allowed, no stop key) or that an earlier row always takes
    first. The first task has no history: it never goes back, so it is
    never resumed. ``taskchart check`` holds every table to these rules
    (:mod:`taskchart.statecharts.possible`).
    """
    t = spec.id
    row: Callable[..., TransitionDef] = lambda s, d, e, g=(), a=(), i=False: TransitionDef(  # noqa: E731
        sid(t, s) if s != t else t, d if d in (DISPATCH,) else sid(t, d), e, g, a, i, t
    )
    states = [StateDef(t, t, "compound")]
    if not first:
        states.append(StateDef(sid(t, "h"), t, "history"))
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
        sent = {tool.event for tool in spec.tools}
        confirms = spec.confirmation is not Confirmation.NEVER
        direct = spec.confirmation is not Confirmation.ALWAYS
        ask = ("needs_confirmation",) if confirms and direct else ()  # AUDIO_ONLY: the modality
        confirming = confirms and (UPDATE in sent or spec.keypad is not None)
        open_states = [COLLECTING, CONFIRMING] if confirming else [COLLECTING]
        states.append(StateDef(sid(t, COLLECTING), t, "atomic", True))
        if confirming:
            states.append(StateDef(sid(t, CONFIRMING), t, "atomic"))
        states.append(StateDef(sid(t, COMPLETE_STATE), t, "final"))
        if DECLINE in sent:
            states.append(StateDef(sid(t, DECLINED_STATE), t, "final"))
        states.append(StateDef(sid(t, FAILED_STATE), t, "final"))
        collected = "all_fields_collected"
        confirmed: tuple[str, ...] = ("value_unchanged_since_readback",)
        if spec.confirms_by_repetition:
            confirmed += ("repetition_matches",)
        if UPDATE in sent:
            if confirming:
                rows.append(row(COLLECTING, CONFIRMING, UPDATE, (collected, *ask), ("store",)))
            if direct:
                rows.append(
                    row(
                        COLLECTING, COMPLETE_STATE, UPDATE, (collected,), ("store", "complete_task")
                    )
                )
            if not spec.updates_fill_every_field:
                rows.append(row(COLLECTING, COLLECTING, UPDATE, (), ("store",), True))
        if confirming:
            if UPDATE in sent:
                rows.append(row(CONFIRMING, CONFIRMING, UPDATE, (), ("store",)))
            if CONFIRM in sent:
                rows.append(row(CONFIRMING, COMPLETE_STATE, CONFIRM, confirmed, ("complete_task",)))
            if CORRECT in sent:
                rows.append(row(CONFIRMING, COLLECTING, CORRECT))
        # one call confirms what the conversation shows was heard
        if spec.confirm_heard and spec.confirms_by_repetition:
            rows.append(
                row(
                    COLLECTING,
                    COMPLETE_STATE,
                    CONFIRM,
                    ("heard_in_conversation",),
                    ("store_heard", "complete_task"),
                )
            )
        if spec.keypad is not None:
            rows += _keypad_rows(row, spec, confirming, direct, ask)
        if DECLINE in sent:
            for s in open_states:
                rows.append(row(s, DECLINED_STATE, DECLINE, (), ("decline_task",)))
        for s in open_states:
            rows.append(row(s, FAILED_STATE, FAIL, (), ("fail_task",)))
    if spec.no_input is not None:
        for s in open_states:
            if spec.no_input.max_retries > 0:
                rows.append(row(s, s, TIMEOUT, ("reprompts_left",), ("count_reprompt",), True))
            rows.append(row(s, FAILED_STATE, TIMEOUT, (), ("no_input",)))
    if spec.no_match is not None:
        for s in open_states:
            if spec.no_match.max_retries > 0:
                rows.append(row(s, s, NO_MATCH, ("no_matches_left",), ("count_no_match",), True))
            rows.append(row(s, FAILED_STATE, NO_MATCH, (), ("no_match",)))
    # where the flow goes when the task ends (flow_table keeps the rows to its own tasks)
    for key, target in spec.route_table.items():
        rows.append(TransitionDef(t, target, f"done.state.{t}", (f"routed:{key}",), task=t))
    rows.append(TransitionDef(t, DISPATCH, f"done.state.{t}", task=t))
    if not first:
        rows.append(
            TransitionDef(
                t, DISPATCH, REGRESS, ("regression_targets_visited",), ("begin_regression",), task=t
            )
        )
    return states, rows


def _keypad_rows(
    row: Callable[..., TransitionDef],
    spec: TaskSpec,
    confirming: bool,
    direct: bool,
    ask: tuple[str, ...],
) -> list[TransitionDef]:
    """Tones fill a key buffer; the last key, the stop key or a pause ends the entry.

    Too few keys re-prompt while retries are left, then fail the task (LiveKit's rule).
    With no-match handling, an entry the field refuses (a key that is no menu
    option) is a no-match; the repeat key reads the prompt again.
    """
    keypad: Keypad | None = spec.keypad
    assert keypad is not None
    ends = ("press_key", "take_keys")
    retries = keypad.max_retries > 0
    retry = ("keypad_retries_left",)
    stop_retry = ("is_stop_key", *retry)
    stop = keypad.stop_key is not None
    rows: list[TransitionDef] = []
    if keypad.repeat_key is not None:
        rows.append(row(COLLECTING, COLLECTING, KEY, ("is_repeat_key",), ("repeat_prompt",), True))
    if spec.no_match is not None:
        refused = ("key_completes", "keys_refused")
        if spec.no_match.max_retries > 0:
            rows.append(
                row(
                    COLLECTING,
                    COLLECTING,
                    KEY,
                    (*refused, "no_matches_left"),
                    ("drop_keys", "count_no_match"),
                    True,
                )
            )
        rows.append(row(COLLECTING, FAILED_STATE, KEY, refused, ("drop_keys", "no_match")))
    if stop and retries:
        rows.append(row(COLLECTING, COLLECTING, KEY, stop_retry, ("reject_keys",), True))
    if stop:
        rows.append(row(COLLECTING, FAILED_STATE, KEY, ("is_stop_key",), ("fail_keys",)))
    if confirming:
        rows.append(row(COLLECTING, CONFIRMING, KEY, ("key_completes", *ask), ends))
    if direct:
        rows.append(
            row(COLLECTING, COMPLETE_STATE, KEY, ("key_completes",), (*ends, "complete_task"))
        )
    if keypad.num_digits > 1:  # one key always completes: no half-typed entry, no pause
        rows.append(row(COLLECTING, COLLECTING, KEY, (), ("press_key", "arm_keys_timer"), True))
        if retries:
            rows.append(row(COLLECTING, COLLECTING, KEYS_TIMEOUT, retry, ("reject_keys",), True))
        rows.append(row(COLLECTING, FAILED_STATE, KEYS_TIMEOUT, (), ("fail_keys",)))
    if not confirming:
        return rows
    # a new entry while a value awaits confirmation replaces it (and is read back)
    if stop and retries:
        rows.append(row(CONFIRMING, CONFIRMING, KEY, stop_retry, ("reject_keys",), True))
    if stop:
        rows.append(row(CONFIRMING, FAILED_STATE, KEY, ("is_stop_key",), ("fail_keys",)))
    rows.append(row(CONFIRMING, CONFIRMING, KEY, ("key_completes",), ends))
    if keypad.num_digits > 1:
        rows.append(row(CONFIRMING, CONFIRMING, KEY, (), ("press_key", "arm_keys_timer"), True))
        if retries:
            rows.append(row(CONFIRMING, CONFIRMING, KEYS_TIMEOUT, retry, ("reject_keys",), True))
        rows.append(row(CONFIRMING, FAILED_STATE, KEYS_TIMEOUT, (), ("fail_keys",)))
    return rows


def _routes(row: TransitionDef) -> bool:
    return row.guards[0].startswith("routed:")


def dispatch_rows(order: Sequence[str]) -> list[TransitionDef]:
    rows = [TransitionDef(DISPATCH, FLOW_FAILED, None, ("flow_failed",))]
    for i, t in enumerate(order):
        rows.append(TransitionDef(DISPATCH, t, None, ("next_fresh",), task=t))
        if i:  # the first task never goes back, so it is never resumed
            rows.append(TransitionDef(DISPATCH, sid(t, "h"), None, ("next_resume",), task=t))
    rows.append(TransitionDef(DISPATCH, FLOW_DONE, None))
    return rows


def flow_table(tasks: Sequence[TaskSpec]) -> tuple[list[StateDef], list[TransitionDef]]:
    """The whole flow's states and rows: ``dispatch``, each task in order, the finals."""
    states: list[StateDef] = [StateDef(DISPATCH, None, "transient", True)]
    rows: list[TransitionDef] = []
    ids = {spec.id for spec in tasks}
    for i, spec in enumerate(tasks):
        s, r = task_table(spec, first=i == 0)
        states += s
        rows += [x for x in r if not x.guards[:1] or not _routes(x) or x.target in ids]
    rows += dispatch_rows([t.id for t in tasks])
    states += [StateDef(FLOW_DONE, None, "final"), StateDef(FLOW_FAILED, None, "final")]
    return states, rows
