"""Exceptions the LiveKit adapter raises to awaiting code.

They are ``ToolError`` subclasses, as LiveKit's own tasks raise, so code that
catches ``ToolError`` keeps working; ``failure`` holds the chart's reason
(:class:`~taskchart.statecharts.TaskFailure` and its subclasses).

A snapshot keeps the failure with the name of the exception class that
carried it (``TaskFailure.raised_as``); :func:`livekit_error` raises that
class again for a restored failure when it is registered here
(:func:`register_error_type`), so a call resumed by another worker hands
awaiting code a ``CardCaptureDeclinedError`` where the live run did. Every
class of this module is registered; a ``TaskFailedError`` subclass of one's
own (from an ``error_for`` override) is registered with one call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from livekit.agents.llm import ToolError
from taskchart.statecharts import Declined, NoInput, NoMatch, SessionClosed, TaskFailure

__all__ = [
    "DeclinedError",
    "NoInputError",
    "NoMatchError",
    "SessionClosedError",
    "TaskFailedError",
    "livekit_error",
    "register_error_type",
]

E = TypeVar("E", bound=Exception)


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


#: ``module:qualname`` -> how to raise that class again from the failure it carried.
_REBUILD: dict[str, Callable[[TaskFailure], Exception]] = {}


def register_error_type(cls: type[E], rebuild: Callable[[TaskFailure], E] | None = None) -> type[E]:
    """Let a restored failure be raised as ``cls`` again (also a class decorator).

    ``rebuild`` makes the exception from the failure; a ``TaskFailedError``
    subclass needs none (``cls(failure, failure.said)``: in the words it had).
    """
    if rebuild is None:
        if not issubclass(cls, TaskFailedError):
            raise TypeError(f"{cls.__qualname__} is no TaskFailedError: pass rebuild=")
        failed: type[TaskFailedError] = cls

        def rebuild(failure: TaskFailure) -> E:
            return cast(E, failed(failure, failure.said))

    _REBUILD[f"{cls.__module__}:{cls.__qualname__}"] = rebuild
    return cls


def livekit_error(error: Exception, label: str | None = None) -> Exception:
    """The exception to hand to awaiting LiveKit code for a chart failure.

    With the task's ``label`` a decline reads as LiveKit's prebuilt tasks
    word it: "couldn't get the email address: <reason>". A restored failure
    is raised as the registered class that carried it when the task ended.
    """
    raised_as = error.raised_as if isinstance(error, TaskFailure) else None
    rebuild = _REBUILD.get(raised_as) if raised_as is not None else None
    if rebuild is not None:
        assert isinstance(error, TaskFailure)
        return rebuild(error)
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


for _cls in (TaskFailedError, DeclinedError, NoInputError, NoMatchError, SessionClosedError):
    register_error_type(_cls)
