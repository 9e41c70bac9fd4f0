"""Events the runtime accepts: what happened in the conversation.

Events are frozen values. ``to_json``/``event_from_json`` give the event-log
form used for snapshots, replay and coverage.

>>> ToolCalled("update_email", {"email": "a@b.co"}).to_json()
{'type': 'ToolCalled', 'name': 'update_email', 'arguments': {'email': 'a@b.co'}, 'call_id': None}
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import attrs
from taskchart.statecharts.fields import shown
from taskchart.statecharts.task import MODALITIES, Modality

__all__ = [
    "MODALITIES",
    "AgentSpeaking",
    "DtmfReceived",
    "Event",
    "Modality",
    "ModalitySet",
    "NoMatch",
    "RecordedError",
    "Resumed",
    "SessionClosed",
    "TaskRaised",
    "TaskReturned",
    "TimerFired",
    "ToolCalled",
    "UserAway",
    "UserSpeaking",
    "UserSpoke",
    "event_from_json",
]


@attrs.frozen
class ToolCalled:
    """The model called a tool; ``arguments`` is the decoded JSON it sent.

    ``heard`` is set by the adapter, never by the model: the conversation shows
    that the agent read the value of this confirmation back and the user
    answered after (a task with ``confirm_heard`` then confirms in one call).
    """

    name: str
    arguments: Any = attrs.field(factory=dict)
    call_id: str | None = None
    heard: bool = False

    def to_json(self) -> dict[str, Any]:
        args = dict(self.arguments) if isinstance(self.arguments, Mapping) else self.arguments
        data = {"type": "ToolCalled", "name": self.name, "arguments": args, "call_id": self.call_id}
        if self.heard:
            data["heard"] = True
        return data


@attrs.frozen
class UserSpoke:
    """The user finished a turn; ``modality`` is ``"text"`` or ``"audio"``
    (the interpreter refuses anything else as ``invalid_argument``)."""

    text: str = ""
    modality: Modality = "text"

    def to_json(self) -> dict[str, Any]:
        return {"type": "UserSpoke", "text": self.text, "modality": self.modality}


@attrs.frozen
class ModalitySet:
    """The input modality is ``modality`` from now on, though the user has not spoken yet
    (a task started by a voice turn)."""

    modality: Modality = "text"

    def to_json(self) -> dict[str, Any]:
        return {"type": "ModalitySet", "modality": self.modality}


@attrs.frozen
class Resumed:
    """The caller is back at the active task after correcting an earlier one (an adapter
    that runs each task on its own flow says so): a value being confirmed is read back again."""

    def to_json(self) -> dict[str, Any]:
        return {"type": "Resumed"}


@attrs.frozen
class DtmfReceived:
    """A keypad tone (``0-9``, ``*``, ``#``) from ``participant``."""

    digit: str
    participant: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"type": "DtmfReceived", "digit": self.digit, "participant": self.participant}


@attrs.frozen
class TimerFired:
    """A timer started by a ``StartTimer`` effect ran out."""

    timer_id: str

    def to_json(self) -> dict[str, Any]:
        return {"type": "TimerFired", "timer_id": self.timer_id}


@attrs.frozen
class AgentSpeaking:
    """The agent started speaking (``speaking=True``) or finished (``False``).

    A step's no-input timer waits while the prompt plays and starts when it ends.
    """

    speaking: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"type": "AgentSpeaking", "speaking": self.speaking}


@attrs.frozen
class UserSpeaking:
    """The caller started speaking: the no-input timer stops."""

    def to_json(self) -> dict[str, Any]:
        return {"type": "UserSpeaking"}


@attrs.frozen
class UserAway:
    """The caller is away (LiveKit's ``away`` user state): it counts as no input."""

    def to_json(self) -> dict[str, Any]:
        return {"type": "UserAway"}


@attrs.frozen
class NoMatch:
    """A caller turn gave the step nothing it can use.

    ``reason`` is ``"unmatched"`` (the model called no tool of the step) or
    ``"refused"`` (the step refused the value the model took from the turn).
    """

    reason: str = "unmatched"

    def to_json(self) -> dict[str, Any]:
        return {"type": "NoMatch", "reason": self.reason}


@attrs.frozen
class SessionClosed:
    """The session closed (caller hung up, room deleted, ...)."""

    reason: str = "session closed"

    def to_json(self) -> dict[str, Any]:
        return {"type": "SessionClosed", "reason": self.reason}


@attrs.frozen
class TaskReturned:
    """A hand-written task's own code completed it with ``result``."""

    result: Any

    def to_json(self) -> dict[str, Any]:
        return {"type": "TaskReturned", "result": _jsonable(self.result)}


class RecordedError(Exception):
    """An error read back from a journal: only its recorded text (``"ValueError: bad"``)."""


@attrs.frozen
class TaskRaised:
    """A hand-written task ended with ``error`` instead of a result."""

    error: Exception

    def to_json(self) -> dict[str, Any]:
        error = self.error
        text = (
            str(error) if isinstance(error, RecordedError) else f"{type(error).__name__}: {error}"
        )
        return {"type": "TaskRaised", "error": text}


def plain_json(value: Any) -> Any:
    """``value`` as plain JSON data (dataclasses and attrs classes as objects).

    Raises ``TypeError`` or ``ValueError`` when it does not serialise.
    """
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif attrs.has(type(value)):
        value = attrs.asdict(value)
    json.dumps(value)
    return value


def _jsonable(value: Any) -> Any:
    """:func:`plain_json`, or the ``repr`` of what does not serialise."""
    try:
        return plain_json(value)
    except (TypeError, ValueError):
        return shown(value)


Event = (
    ToolCalled
    | UserSpoke
    | ModalitySet
    | Resumed
    | DtmfReceived
    | TimerFired
    | SessionClosed
    | TaskReturned
    | TaskRaised
    | AgentSpeaking
    | UserSpeaking
    | UserAway
    | NoMatch
)

_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        ToolCalled,
        UserSpoke,
        ModalitySet,
        Resumed,
        DtmfReceived,
        TimerFired,
        SessionClosed,
        TaskReturned,
        TaskRaised,
        AgentSpeaking,
        UserSpeaking,
        UserAway,
        NoMatch,
    )
}


#: Fields a log must give as text (JSON strings), per event type.
_TEXT: dict[str, tuple[str, ...]] = {
    "ToolCalled": ("name", "call_id"),
    "UserSpoke": ("text", "modality"),
    "ModalitySet": ("modality",),
    "Resumed": (),
    "DtmfReceived": ("digit", "participant"),
    "TimerFired": ("timer_id",),
    "SessionClosed": ("reason",),
    "TaskReturned": (),
    "TaskRaised": (),
    "AgentSpeaking": (),
    "UserSpeaking": (),
    "UserAway": (),
    "NoMatch": ("reason",),
}
_OPTIONAL = frozenset({"call_id", "participant"})


def event_from_json(data: Mapping[str, Any]) -> Event:
    """Rebuild an event from its ``to_json`` form; ``ValueError`` when malformed."""
    if not isinstance(data, Mapping):
        raise ValueError(f"an event must be a JSON object, got {type(data).__name__}")
    kind = data.get("type")
    cls = _TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event type {kind!r}; expected one of {sorted(_TYPES)}")
    fields = {a.name for a in attrs.fields(cls)}
    extra = set(data) - fields - {"type"}
    if extra:
        raise ValueError(f"unexpected keys for {kind}: {', '.join(sorted(map(shown, extra)))}")
    kwargs = {k: v for k, v in data.items() if k != "type"}
    for name in _TEXT[cls.__name__]:
        if name in kwargs and not isinstance(
            kwargs[name], str | None if name in _OPTIONAL else str
        ):
            raise ValueError(f"malformed {kind}: {name} must be text, got {shown(kwargs[name])}")
    for flag in ("heard", "speaking"):
        if not isinstance(kwargs.get(flag, False), bool):
            raise ValueError(f"malformed {kind}: {flag} must be true or false")
    if cls is TaskRaised:  # the error comes back as its recorded text
        if not isinstance(kwargs.get("error"), str):
            raise ValueError("malformed TaskRaised: error must be the recorded text")
        kwargs["error"] = RecordedError(kwargs["error"])
    try:
        event: Event = cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"malformed {kind}: {exc}") from exc
    return event
