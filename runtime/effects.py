"""Effects the runtime asks the adapter to perform; the runtime itself does no I/O.

>>> Instruct("Ask for the user's email address.")
Instruct(instructions="Ask for the user's email address.", task_id=None)
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = [
    "CancelTimer",
    "Complete",
    "Effect",
    "Fail",
    "Instruct",
    "Regressed",
    "SetTools",
    "StartTimer",
    "TaskCompleted",
    "TaskFailed",
    "TaskStarted",
]


@attrs.frozen
class Instruct:
    """Generate a reply following these instructions."""

    instructions: str
    task_id: str | None = None


@attrs.frozen
class SetTools:
    """Offer exactly these tools to the model from now on."""

    tools: tuple[str, ...]


@attrs.frozen
class TaskStarted:
    """A task was entered: fresh, or resumed from its history."""

    task_id: str
    resumed: bool = False


@attrs.frozen
class TaskCompleted:
    """A task completed with ``result`` (re-runs complete again)."""

    task_id: str
    result: Any


@attrs.frozen
class TaskFailed:
    """A task ended without a result (declined, no input, session closed)."""

    task_id: str
    error: Exception


@attrs.frozen
class Regressed:
    """The caller went back from ``from_task`` to ``targets``."""

    from_task: str
    targets: tuple[str, ...]


@attrs.frozen
class Complete:
    """The flow finished with ``result`` (a task result or a group result)."""

    result: Any


@attrs.frozen
class Fail:
    """The flow ended with ``error``."""

    error: Exception


@attrs.frozen
class StartTimer:
    """Start (or restart) timer ``timer_id``; fire ``TimerFired`` after ``seconds``."""

    timer_id: str
    seconds: float


@attrs.frozen
class CancelTimer:
    """Cancel timer ``timer_id`` if it is pending."""

    timer_id: str


Effect = (
    Instruct
    | SetTools
    | TaskStarted
    | TaskCompleted
    | TaskFailed
    | Regressed
    | Complete
    | Fail
    | StartTimer
    | CancelTimer
)
