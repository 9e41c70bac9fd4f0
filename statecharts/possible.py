"""What a task spec rules out: events nothing sends, guards it fixes, rows that never fire.

Rules of this file: everything here is decided from the task specs and the
rows alone, never by running a chart, and only what is certain is decided:
a row reported as never firing cannot fire in any run of the interpreter,
while a row that cannot fire for a reason not listed here stays unreported.
The table builder (:mod:`.table`) writes no such row (the tests hold it to
that), and ``taskchart check`` reports them in tables edited by hand.

Theory of operation: a row never fires when

1. nothing sends its event to the task: ``update``, ``confirm``, ``correct``
   and ``decline`` come from the task's tools only, ``timeout`` needs a
   ``no_input`` handler (``no_input_timeout``), ``no_match`` a ``no_match``
   handler, ``dtmf`` and ``keys_timeout`` a keypad, ``complete``
   a hand-written task (``fail`` comes from a session close: always);
2. one of its guards is false whatever happens (:func:`guard_value`);
3. an earlier row of the same source and event is always taken first: each
   of that row's guards holds whatever happens or is one of this row's own
   (bound to the same task: guards are evaluated before any action runs).

>>> from taskchart.statecharts import Confirmation, Field, declarative_task
>>> spec = declarative_task("n", fields=[Field("n")], confirmation=Confirmation.NEVER)
>>> guard_value(spec, "needs_confirmation", "update", first=True, goes_back=False)
False
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from . import task
from .table import REGRESS, TransitionDef
from .task import Confirmation, TaskSpec

__all__ = ["guard_value", "never_fires", "sends"]

_TOOL_EVENTS = (task.UPDATE, task.CONFIRM, task.CORRECT, task.DECLINE)


def sends(spec: TaskSpec | None, event: str | None) -> bool:
    """Whether something can send ``event`` to the task (rule 1)."""
    if spec is None or event is None or event.startswith("done.state."):
        return True
    if event in _TOOL_EVENTS:
        return any(t.event == event for t in spec.tools)
    if event == task.TIMEOUT:
        return spec.no_input is not None
    if event == task.NO_MATCH:
        return spec.no_match is not None
    if event in (task.KEY, task.KEYS_TIMEOUT):
        return spec.keypad is not None
    if event == task.COMPLETE:
        return spec.kind == "implicit"
    return True  # fail (a session close), regress, and events of hand-made tables


def guard_value(
    spec: TaskSpec | None, guard: str, event: str | None, *, first: bool, goes_back: bool
) -> bool | None:
    """The value ``guard`` has in every run, or None when it depends on the run (rule 2).

    ``first``: the task is the flow's first; ``goes_back``: it has a regression
    row that can fire (a task is resumed from its history only after one).
    """
    if spec is None:
        return None
    keypad = spec.keypad
    fixed: dict[str, bool | None] = {
        "needs_confirmation": {Confirmation.NEVER: False, Confirmation.ALWAYS: True}.get(
            spec.confirmation
        ),
        "reprompts_left": False
        if spec.no_input is None or spec.no_input.max_retries <= 0
        else None,
        "no_matches_left": False
        if spec.no_match is None or spec.no_match.max_retries <= 0
        else None,
        "keys_refused": False if keypad is None or spec.no_match is None else None,
        "is_repeat_key": False if keypad is None or keypad.repeat_key is None else None,
        "keypad_retries_left": False if keypad is None or keypad.max_retries <= 0 else None,
        "is_stop_key": False if keypad is None or keypad.stop_key is None else None,
        "key_completes": False if keypad is None else None,
        # the repeated value a confirmation by repetition carries
        "repetition_matches": None if spec.confirms_by_repetition else False,
        "heard_in_conversation": None if spec.confirms_by_repetition else False,
        "regression_targets_visited": False if first else None,
        "next_resume": None if goes_back else False,
    }
    if guard == "all_fields_collected" and event == task.UPDATE and spec.updates_fill_every_field:
        return True
    return fixed.get(guard)


def never_fires(rows: Sequence[TransitionDef], tasks: Sequence[TaskSpec]) -> dict[int, str]:
    """Why each row that can never fire cannot, by row index (rules 1-3)."""
    specs: Mapping[str, TaskSpec] = {t.id: t for t in tasks}
    first = tasks[0].id if tasks else None

    def fixed(row: TransitionDef, guard: str, goes_back: bool = True) -> bool | None:
        spec = specs.get(row.task) if row.task is not None else None
        return guard_value(spec, guard, row.event, first=row.task == first, goes_back=goes_back)

    # a task is resumed only after one of its regression rows fired
    backs = {
        r.task
        for r in rows
        if r.event == REGRESS and all(fixed(r, g) is not False for g in r.guards)
    }
    out: dict[int, str] = {}
    for i, row in enumerate(rows):
        if not sends(specs.get(row.task) if row.task is not None else None, row.event):
            out[i] = f"nothing sends {row.event!r} to task {row.task!r}"
            continue
        never = [g for g in row.guards if fixed(row, g, row.task in backs) is False]
        if never:
            out[i] = f"its guard {never[0]!r} never holds for task {row.task!r}"
            continue
        for j, earlier in enumerate(rows[:i]):
            if j in out or (earlier.source, earlier.event) != (row.source, row.event):
                continue
            same_task = earlier.task == row.task  # a guard is bound to its row's task
            if all(
                (same_task and g in row.guards) or fixed(earlier, g) is True for g in earlier.guards
            ):
                out[i] = (
                    f"row {j} ({earlier.source} -{earlier.label}-> {earlier.target}) "
                    "is always taken first"
                )
                break
    return out
