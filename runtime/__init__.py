"""The sans-I/O runtime: interpreter, events, effects, snapshots, logs.

Nothing in this package imports LiveKit. Read it in this order:

* the interpreter: :mod:`.events` in, :mod:`.interpreter` (one flow) with
  :mod:`.event_handlers`, :mod:`.tool_calls` and :mod:`.turns`, and
  :mod:`.outcome` out;
* signals to effects: :mod:`.signal_effects` (a table of small functions),
  :mod:`.effects`, and :mod:`.messages` (every word the model reads);
* time and asyncio: :mod:`.clock`, :mod:`.timers`, :mod:`.flow` (``AsyncFlow``);
* snapshots and durability: :mod:`.snapshots`, :mod:`.results`, :mod:`.digest`,
  :mod:`.store` and :mod:`.store_errors`, :mod:`.durable`, :mod:`.sealing`;
* journals and privacy: :mod:`.recording`, :mod:`.replay`, :mod:`.logs`,
  :mod:`.private`, :mod:`.standins`;
* checking flows: :mod:`.checks` (static), the :mod:`.testing` package
  (generated tests) and its :mod:`.pytest_plugin`; :mod:`.extras` says which
  optional dependency a missing import needs.
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
