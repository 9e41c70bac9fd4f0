"""Why a task ended without a result: the failures a flow keeps as a task's outcome.

A :class:`TaskFailure` names its task and says why in words; its subclasses
say which way it ended (declined, the session closed, silence or unusable
answers through every re-prompt, a request to start over). They compare by
value and survive pickling and snapshots (:data:`FAILURE_TYPES` maps the
names a snapshot stores back to the classes). A failure kept from an
adapter's exception also keeps that exception's class name (``raised_as``),
so the adapter can raise the same class again after a restore.

>>> NoMatch("menu", "no option matched") == NoMatch("menu", "no option matched")
True
>>> gave_up(NoInput("pin", "the user did not answer"))
'no_input'
"""

from __future__ import annotations

__all__ = [
    "FAILURE_TYPES",
    "Declined",
    "NoInput",
    "NoMatch",
    "SessionClosed",
    "StartOver",
    "TaskFailure",
    "gave_up",
]


class TaskFailure(Exception):
    """Why a task ended without a result."""

    #: ``module:qualname`` of the adapter exception that carried this failure when the
    #: task ended (:meth:`kept_as`), or None; it takes no part in ``==``.
    raised_as: str | None = None
    #: That exception's own text when it said more than ``message`` ("couldn't get the
    #: email address: <reason>"), so it reads the same when raised again; or None.
    said: str | None = None

    def __init__(self, task_id: str, message: str) -> None:
        super().__init__(message)
        self.task_id = task_id
        self.message = message

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, TaskFailure)
            and (other.task_id, other.message) == (self.task_id, self.message)
        )

    def __hash__(self) -> int:
        return hash((type(self), self.task_id, self.message))

    def __reduce__(self) -> tuple[type[TaskFailure], tuple[str, str], dict[str, str | None]]:
        # Exception pickles ``args`` (the message alone) by default: rebuild from both fields
        state = {"raised_as": self.raised_as, "said": self.said}
        return type(self), (self.task_id, self.message), state

    def to_json(self) -> dict[str, str]:
        data = {"type": type(self).__name__, "task_id": self.task_id, "message": self.message}
        if self.raised_as is not None:
            data["raised_as"] = self.raised_as
        if self.said is not None:
            data["said"] = self.said
        return data

    @classmethod
    def kept_as(cls, task_id: str, error: Exception) -> TaskFailure:
        """``error`` as snapshots keep it: itself if a failure, the failure it wraps (an
        adapter's ``NoMatchError`` keeps its ``NoMatch``, so a restored flow still knows
        the handler gave up) with the wrapper's class in ``raised_as``, else its type
        and text.

        >>> class CardDeclined(Exception):
        ...     failure = Declined("card", "no card")
        >>> kept = TaskFailure.kept_as("card", CardDeclined())
        >>> kept == Declined("card", "no card"), kept.raised_as.endswith(":CardDeclined")
        (True, True)
        """
        if isinstance(error, TaskFailure):
            return error
        wrapped = getattr(error, "failure", None)
        if isinstance(wrapped, TaskFailure):
            kept = type(wrapped)(wrapped.task_id, wrapped.message)
            kept.raised_as = f"{type(error).__module__}:{type(error).__qualname__}"
            text = str(error)
            kept.said = text if text != wrapped.message else None
            return kept
        return TaskFailure(task_id, f"{type(error).__name__}: {error}")


class Declined(TaskFailure):
    """The user declined to give what the task asks for."""


class SessionClosed(TaskFailure):
    """The session closed before the task finished."""


class NoInput(TaskFailure):
    """The user said nothing through every re-prompt."""


class NoMatch(TaskFailure):
    """Nothing the caller said or keyed matched the step, through every re-prompt."""


class StartOver(TaskFailure):
    """The user asked to start over (a flow that owns the task runs it again)."""


FAILURE_TYPES: dict[str, type[TaskFailure]] = {
    cls.__name__: cls for cls in (TaskFailure, Declined, SessionClosed, NoInput, NoMatch, StartOver)
}


def gave_up(error: object) -> str | None:
    """``"no_input"`` or ``"no_match"`` when ``error`` is (or wraps, as ``failure``) a
    handler giving up, else None."""
    failure = getattr(error, "failure", error)
    if isinstance(failure, NoInput):
        return "no_input"
    if isinstance(failure, NoMatch):
        return "no_match"
    return None
