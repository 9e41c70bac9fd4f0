"""Exceptions the LiveKit adapter raises to awaiting code.

They are ``ToolError`` subclasses, as LiveKit's own tasks raise, so code that
catches ``ToolError`` keeps working; ``failure`` holds the chart's reason
(:class:`~taskchart.statecharts.TaskFailure` and its subclasses).
"""

from __future__ import annotations

from livekit.agents.llm import ToolError
from taskchart.statecharts import Declined, NoInput, NoMatch, SessionClosed, TaskFailure

__all__ = [
    "DeclinedError",
    "NoInputError",
    "NoMatchError",
    "SessionClosedError",
    "TaskFailedError",
    "livekit_error",
]


class TaskFailedError(ToolError):
    """A task ended without a result; ``failure`` says why."""

    def __init__(self, failure: Exception, message: str | None = None) -> None:
        super().__init__(message or str(failure))
        self.failure = failure


class DeclinedError(TaskFailedError):
    """The user declined to give what the task asks for."""


class NoInputError(TaskFailedError):
    """The user said nothing through every re-prompt."""


class NoMatchError(TaskFailedError):
    """Nothing the caller said or keyed matched the step, through every re-prompt."""


class SessionClosedError(TaskFailedError):
    """The session closed before the task or group finished."""


def livekit_error(error: Exception, label: str | None = None) -> Exception:
    """The exception to hand to awaiting LiveKit code for a chart failure.

    With the task's ``label`` a decline reads as LiveKit's prebuilt tasks
    word it: "couldn't get the email address: <reason>".
    """
    if label and isinstance(error, Declined):
        return DeclinedError(error, f"couldn't get the {label}: {error.message}")
    for kind, wrapper in (
        (Declined, DeclinedError),
        (NoInput, NoInputError),
        (NoMatch, NoMatchError),
        (SessionClosed, SessionClosedError),
        (TaskFailure, TaskFailedError),
    ):
        if isinstance(error, kind):
            return wrapper(error)
    return error
