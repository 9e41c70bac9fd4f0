"""Clocks for timers: the real asyncio loop, or a simulated one for tests.

>>> clock = SimulatedClock()
>>> fired = []
>>> _ = clock.call_later(4.0, lambda: fired.append(clock.now()))
>>> clock.advance(3.9); fired
[]
>>> clock.advance(0.1); fired
[4.0]
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Protocol

__all__ = ["Clock", "LoopClock", "SimulatedClock", "TimerHandle"]


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """What the runtime needs from time: now, and a callback later."""

    def now(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle: ...


class _SimHandle:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class SimulatedClock:
    """A clock that moves only when told to: timers fire inside :meth:`advance`."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._queue: list[tuple[float, int, _SimHandle, Callable[[], None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        handle = _SimHandle()
        heapq.heappush(
            self._queue, (self._now + max(0.0, delay), next(self._seq), handle, callback)
        )
        return handle

    def advance(self, seconds: float) -> None:
        """Move time forward, firing due callbacks in order (each at its own time)."""
        until = self._now + seconds
        while self._queue and self._queue[0][0] <= until:
            when, _, handle, callback = heapq.heappop(self._queue)
            self._now = when
            if not handle.cancelled:
                callback()
        self._now = until

    @property
    def pending(self) -> int:
        return sum(1 for *_, h, _cb in self._queue if not h.cancelled)


class LoopClock:
    """The running asyncio loop's clock."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop or asyncio.get_running_loop()

    def now(self) -> float:
        return self.loop.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return self.loop.call_later(delay, callback)
