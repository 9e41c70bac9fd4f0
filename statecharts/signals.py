"""What a chart's callbacks report: small frozen records, one per kind of happening.

Rules of this file: a signal says what happened in the chart's data (a task
was entered, a value read back, a timer armed), never what to say or do
about it; the runtime turns each signal into effects
(:mod:`taskchart.runtime.signal_effects`), and the words the model reads
live in :mod:`taskchart.runtime.messages`. Signals carry ids and counts,
never a collected value.

>>> EnterTask("email", resumed=False)
EnterTask(task_id='email', resumed=False)
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import attrs

__all__ = [
    "ArmTimer",
    "DisarmTimer",
    "EnterTask",
    "FlowDone",
    "KeysShort",
    "ReadBack",
    "Regress",
    "Repeat",
    "Reprompt",
    "Signal",
    "TaskDone",
]


@attrs.frozen
class EnterTask:
    """A task was entered: fresh, or resumed from its history."""

    task_id: str
    resumed: bool


@attrs.frozen
class ReadBack:
    """The task's value is to be read back; ``count`` read-backs so far, this one included."""

    task_id: str
    count: int


@attrs.frozen
class KeysShort:
    """A keypad entry ended with too few keys (``got``) and is asked for again."""

    task_id: str
    got: int


@attrs.frozen
class Reprompt:
    """The caller said nothing (``no_input``) or nothing usable (``no_match``): the task
    asks again; ``count`` re-prompts of that kind so far, this one included."""

    task_id: str
    kind: Literal["no_input", "no_match"] = "no_input"
    count: int = 1


@attrs.frozen
class Repeat:
    """The caller asked to hear the prompt again (a menu's repeat key)."""

    task_id: str


@attrs.frozen
class TaskDone:
    """A task ended: ``complete``, ``declined``, ``failed``, ``no_input`` or ``no_match``."""

    task_id: str
    outcome: str


@attrs.frozen
class Regress:
    """The caller went back from ``task_id`` to ``targets``."""

    task_id: str
    targets: tuple[str, ...]


@attrs.frozen
class FlowDone:
    """The flow ended: ``done`` or ``failed``."""

    outcome: Literal["done", "failed"]


@attrs.frozen
class ArmTimer:
    """Start (or restart) timer ``timer_id`` for ``seconds``."""

    timer_id: str
    seconds: float


@attrs.frozen
class DisarmTimer:
    """Stop timer ``timer_id`` if it runs."""

    timer_id: str


Signal: TypeAlias = (
    EnterTask
    | ReadBack
    | KeysShort
    | Reprompt
    | Repeat
    | TaskDone
    | Regress
    | FlowDone
    | ArmTimer
    | DisarmTimer
)
