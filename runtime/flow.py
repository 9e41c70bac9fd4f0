"""Run an interpreter from asyncio: one queue, one worker, timers on a clock.

Events are processed one at a time in arrival order, each to completion,
however many coroutines send at once. Cancelling a sender does not cancel
the processing of its event, so the chart is never left half-way. Timer
effects are performed here against an injectable :class:`Clock`; every other
effect is passed to ``on_effect``.

>>> import asyncio
>>> from taskchart.statecharts import Field, Confirmation, declarative_task, compile_chart
>>> from taskchart.runtime import Interpreter, ToolCalled
>>> chart = compile_chart(declarative_task("name", fields=[Field("name")],
...                                        confirmation=Confirmation.NEVER))
>>> async def main():
...     async with AsyncFlow(Interpreter(chart)) as flow:
...         outcomes = await asyncio.gather(
...             flow.send(ToolCalled("update_name", {"name": "Ada"})),
...             flow.send(ToolCalled("update_name", {"name": "Bob"})))
...         return [o.ok for o in outcomes], flow.interpreter.result
>>> asyncio.run(main())
([True, False], {'name': 'Ada'})
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from .clock import Clock, LoopClock
from .effects import Effect
from .events import Event, TimerFired
from .interpreter import Interpreter
from .outcome import Outcome, Rejected
from .timers import TimerSet

__all__ = ["AsyncFlow", "FlowClosed"]


class FlowClosed(RuntimeError):
    """The flow's worker was closed; no more events are processed."""


_Item = tuple[Sequence[Event], "asyncio.Future[list[Outcome]]"]


class AsyncFlow:
    """An :class:`Interpreter` behind an asyncio queue with a dedicated worker."""

    def __init__(
        self,
        interpreter: Interpreter,
        *,
        clock: Clock | None = None,
        on_effect: Callable[[Effect], Any] | None = None,
    ) -> None:
        self.interpreter = interpreter
        self.clock: Clock = clock or LoopClock()
        self.on_effect = on_effect
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._timers = TimerSet(self.clock, self._timer_fired)
        self._closed = False

    async def __aenter__(self) -> AsyncFlow:
        self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def start(self) -> tuple[Effect, ...]:
        """Start the worker and perform the initial effects."""
        if self._worker is not None:
            return ()
        self._worker = asyncio.get_running_loop().create_task(self._run(), name="taskchart-flow")
        effects = self.interpreter.start()
        self._perform(effects)
        return effects

    async def send(self, event: Event) -> Outcome:
        """Queue ``event`` and wait for its outcome."""
        return (await self.send_batch([event]))[0]

    async def send_batch(self, events: Sequence[Event]) -> list[Outcome]:
        """Queue the tool calls of one model turn (see :meth:`Interpreter.handle_batch`)."""
        if self._closed:
            raise FlowClosed("this flow is closed")
        if self._worker is None:
            self.start()
        future: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((events, future))
        return await asyncio.shield(future)

    async def aclose(self) -> None:
        """Stop the worker after the queued events, and cancel pending timers."""
        if self._closed:
            return
        self._closed = True
        self._timers.close()
        if self._worker is not None:
            self._queue.put_nowait(None)
            await asyncio.shield(self._worker)

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            events, future = item
            try:
                outcomes = self.interpreter.handle_batch(events)
            except Exception as exc:  # an adapter bug must not kill the worker
                outcomes = [Rejected("error", f"internal error: {exc!r}") for _ in events]
            for outcome in outcomes:
                if outcome.ok:
                    self._perform(outcome.effects)  # type: ignore[union-attr]
            if not future.done():
                future.set_result(outcomes)

    def _perform(self, effects: Sequence[Effect]) -> None:
        for effect in effects:
            self._timers.perform(effect)
            if self.on_effect is not None:
                self.on_effect(effect)

    def _timer_fired(self, timer_id: str) -> None:
        if not self._closed:
            self._queue.put_nowait(([TimerFired(timer_id)], _orphan()))


def _orphan() -> asyncio.Future[list[Outcome]]:
    return asyncio.get_running_loop().create_future()
