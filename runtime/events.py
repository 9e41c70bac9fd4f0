"""Events the runtime accepts: what happened in the conversation.

Events are frozen values. ``to_json``/``event_from_json`` give the event-log
form used for snapshots, replay and coverage.

>>> ToolCalled("update_email", {"email": "a@b.co"}).to_json()
{'type': 'ToolCalled', 'name': 'update_email', 'arguments': {'email': 'a@b.co'}, 'call_id': None}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = [
    "DtmfReceived",
    "Event",
    "SessionClosed",
    "TaskRaised",
    "TaskReturned",
    "TimerFired",
    "ToolCalled",
    "UserSpoke",
    "event_from_json",
]


@attrs.frozen
class ToolCalled:
    """The model called a tool; ``arguments`` is the decoded JSON it sent."""

    name: str
    arguments: Any = attrs.field(factory=dict)
    call_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        args = dict(self.arguments) if isinstance(self.arguments, Mapping) else self.arguments
        return {"type": "ToolCalled", "name": self.name, "arguments": args, "call_id": self.call_id}


@attrs.frozen
class UserSpoke:
    """The user finished a turn; ``modality`` is ``"text"`` or ``"audio"``."""

    text: str = ""
    modality: str = "text"

    def to_json(self) -> dict[str, Any]:
        return {"type": "UserSpoke", "text": self.text, "modality": self.modality}


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


@attrs.frozen
class TaskRaised:
    """A hand-written task ended with ``error`` instead of a result."""

    error: Exception

    def to_json(self) -> dict[str, Any]:
        return {"type": "TaskRaised", "error": f"{type(self.error).__name__}: {self.error}"}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


Event = (
    ToolCalled | UserSpoke | DtmfReceived | TimerFired | SessionClosed | TaskReturned | TaskRaised
)

_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (ToolCalled, UserSpoke, DtmfReceived, TimerFired, SessionClosed)
}


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
        raise ValueError(f"unexpected keys for {kind}: {sorted(extra)}")
    try:
        event: Event = cls(**{k: v for k, v in data.items() if k != "type"})
    except TypeError as exc:
        raise ValueError(f"malformed {kind}: {exc}") from exc
    return event
