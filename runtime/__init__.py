"""The sans-I/O runtime: interpreter, events, effects, snapshots, logs.

Nothing in this package imports LiveKit.
"""

from . import effects, events
from .clock import Clock, LoopClock, SimulatedClock
from .effects import *  # noqa: F403  (its __all__, added below)
from .events import *  # noqa: F403  (its __all__, added below)
from .flow import AsyncFlow, EffectFailed, FlowClosed
from .interpreter import DEFAULT_REGRESS_TOOL, Interpreter
from .outcome import Accepted, Outcome, Rejected, Step
from .snapshots import SnapshotError, restore, snapshot
from .timers import TimerSet

__all__ = [
    "DEFAULT_REGRESS_TOOL",
    "Accepted",
    "AsyncFlow",
    "Clock",
    "EffectFailed",
    "FlowClosed",
    "Interpreter",
    "LoopClock",
    "Outcome",
    "Rejected",
    "SimulatedClock",
    "SnapshotError",
    "Step",
    "TimerSet",
    "restore",
    "snapshot",
]
__all__ += effects.__all__
__all__ += events.__all__
