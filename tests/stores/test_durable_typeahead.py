"""A tone pressed while a durable group saves between two tasks reaches the next task: a
store whose save waits on the call's simulated clock stands in for a slow one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from taskchart.adapters.livekit import MenuResult
from taskchart.adapters.livekit.testing import OfflineSession
from taskchart.adapters.livekit.typeahead import KEEP_SECONDS
from taskchart.adapters.stores import Store
from taskchart.runtime import SimulatedClock

from ..livekit.prebuilt_helpers import Collector, by_user_line
from ..livekit.test_typeahead import two_menus


class SlowStore:
    """``store``, whose next save once ``slow`` is set takes ``delay`` seconds on ``clock``
    (the saves after it wait for it)."""

    def __init__(self, store: Store, clock: SimulatedClock, delay: float) -> None:
        self._store, self._clock, self._delay = store, clock, delay
        self.slow = False
        self.saving = 0  # saves waiting for the clock now

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def save(self, flow_id: str, data: bytes, **options: Any) -> int:
        if self.slow:
            self.slow = False
            done = asyncio.get_running_loop().create_future()
            self._clock.call_later(self._delay, lambda: done.done() or done.set_result(None))
            self.saving += 1
            try:
                await done
            finally:
                self.saving -= 1
        return await self._store.save(flow_id, data, **options)


async def until(offline: OfflineSession, done: Callable[[], bool]) -> None:
    """Wait for ``done()``: the store works on its own threads or sockets."""
    for _ in range(500):
        if done():
            return
        await asyncio.sleep(0.01)
        await offline.settle()
    raise AssertionError("timed out")


async def test_a_tone_pressed_during_a_slow_save_reaches_the_next_task(store: Store) -> None:
    clock = SimulatedClock()
    slow = SlowStore(store, clock, delay=1.5)
    agent = Collector(two_menus(clock, store=slow, flow_id="call-5"))
    async with OfflineSession(agent=agent, llm=by_user_line({})) as offline:
        try:
            await until(offline, lambda: "Main menu." in offline.llm.requests[-1].instructions)
            slow.slow = True
            await offline.dtmf("1")  # deposits: the group saves before it moves on
            await until(offline, lambda: slow.saving > 0)
            await offline.dtmf("2")  # while the save waits: no task listens
            clock.advance(1.5)
            await until(offline, lambda: agent.result is not None)
        finally:
            clock.advance(60.0)  # no save left waiting when the session closes
    assert agent.result.task_results == {
        "main": MenuResult("1", "deposits"),
        "deposits": MenuResult("2", "transfers"),
    }


async def test_a_tone_kept_longer_than_the_type_ahead_window_is_dropped(store: Store) -> None:
    clock = SimulatedClock()
    slow = SlowStore(store, clock, delay=KEEP_SECONDS + 1.0)
    agent = Collector(two_menus(clock, store=slow, flow_id="call-6"))
    async with OfflineSession(agent=agent, llm=by_user_line({})) as offline:
        try:
            await until(offline, lambda: "Main menu." in offline.llm.requests[-1].instructions)
            slow.slow = True
            await offline.dtmf("1")
            await until(offline, lambda: slow.saving > 0)
            await offline.dtmf("2")  # pressed 6 s before the next task starts: stale
            clock.advance(KEEP_SECONDS + 1.0)
            await until(offline, lambda: "Deposits." in offline.llm.requests[-1].instructions)
            assert agent.result is None
            await offline.dtmf("1")  # what the caller keys once the menu is read
            await until(offline, lambda: agent.result is not None)
        finally:
            clock.advance(60.0)
    assert agent.result.task_results["deposits"] == MenuResult("1", "balances")
