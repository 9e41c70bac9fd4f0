"""Run a flow's timer effects on a clock: one handle per timer id, restarted on each start.

>>> from taskchart.runtime import SimulatedClock, StartTimer, CancelTimer
>>> clock, fired = SimulatedClock(), []
>>> timers = TimerSet(clock, fired.append)
>>> timers.perform(StartTimer("t.keys", 4.0)); clock.advance(3.0)
>>> timers.perform(StartTimer("t.keys", 4.0)); clock.advance(3.0); fired
[]
>>> clock.advance(1.0); fired
['t.keys']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .clock import Clock, TimerHandle
from .effects import CancelTimer, Effect, StartTimer

__all__ = ["TimerSet"]


class TimerSet:
    """Start and cancel the timers that effects ask for; ``fire(timer_id)`` when one runs out."""

    def __init__(self, clock: Clock, fire: Callable[[str], None]) -> None:
        self.clock = clock
        self._fire = fire
        self._handles: dict[str, TimerHandle] = {}
        self._closed = False

    @property
    def running(self) -> frozenset[str]:
        return frozenset(self._handles)

    def perform(self, effect: Effect) -> None:
        """Act on a :class:`StartTimer` or :class:`CancelTimer`; other effects are ignored."""
        if isinstance(effect, StartTimer):
            self.cancel(effect.timer_id)
            if self._closed:
                return
            timer_id = effect.timer_id

            def fire() -> None:
                self._handles.pop(timer_id, None)
                if not self._closed:
                    self._fire(timer_id)

            self._handles[timer_id] = self.clock.call_later(effect.seconds, fire)
        elif isinstance(effect, CancelTimer):
            self.cancel(effect.timer_id)

    def perform_all(self, effects: Iterable[Effect]) -> None:
        for effect in effects:
            self.perform(effect)

    def cancel(self, timer_id: str) -> None:
        handle = self._handles.pop(timer_id, None)
        if handle is not None:
            handle.cancel()

    def close(self) -> None:
        """Cancel every timer; later starts are ignored."""
        self._closed = True
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
