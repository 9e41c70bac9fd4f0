"""The sans-I/O runtime: interpreter, events, effects, snapshots, logs.

Nothing in this package imports LiveKit.
"""

from .clock import Clock, LoopClock, SimulatedClock
from .effects import (
    CancelTimer,
    Complete,
    Effect,
    Fail,
    Instruct,
    Regressed,
    SetTools,
    StartTimer,
    TaskCompleted,
    TaskFailed,
    TaskStarted,
)
from .events import (
    AgentSpeaking,
    DtmfReceived,
    Event,
    ModalitySet,
    NoMatch,
    RecordedError,
    Resumed,
    SessionClosed,
    TaskRaised,
    TaskReturned,
    TimerFired,
    ToolCalled,
    UserAway,
    UserSpeaking,
    UserSpoke,
    event_from_json,
)
from .flow import AsyncFlow, EffectFailed, FlowClosed
from .interpreter import DEFAULT_REGRESS_TOOL, Interpreter
from .outcome import Accepted, Outcome, Rejected, Step
from .snapshots import SnapshotError, restore, snapshot
from .timers import TimerSet

__all__ = [
    "DEFAULT_REGRESS_TOOL",
    "Accepted",
    "AgentSpeaking",
    "AsyncFlow",
    "CancelTimer",
    "Clock",
    "Complete",
    "DtmfReceived",
    "Effect",
    "EffectFailed",
    "Event",
    "Fail",
    "FlowClosed",
    "Instruct",
    "Interpreter",
    "LoopClock",
    "ModalitySet",
    "NoMatch",
    "Outcome",
    "RecordedError",
    "Regressed",
    "Rejected",
    "Resumed",
    "SessionClosed",
    "SetTools",
    "SimulatedClock",
    "SnapshotError",
    "StartTimer",
    "Step",
    "TaskCompleted",
    "TaskFailed",
    "TaskRaised",
    "TaskReturned",
    "TaskStarted",
    "TimerFired",
    "TimerSet",
    "ToolCalled",
    "UserAway",
    "UserSpeaking",
    "UserSpoke",
    "event_from_json",
    "restore",
    "snapshot",
]
