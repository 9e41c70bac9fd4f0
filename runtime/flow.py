"""Run an interpreter from asyncio: one queue, one worker, timers on a clock.

Events are processed one at a time in arrival order, each to completion,
however many coroutines send at once. Cancelling a sender does not cancel
the processing of its event, so the chart is never left half-way. Timer
effects are performed here against an injectable :class:`Clock`; every other
effect is passed to ``on_effect``.

No ``send()`` waits forever: an ``on_effect`` that raises fails that send
with :class:`EffectFailed` (the callback's exception chained; the event was
processed and the worker goes on), and a worker that stops (cancelled from
outside) fails every pending and later send with :class:`FlowClosed`.

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
from .logs import get_logger
from .outcome import Accepted, Outcome
from .timers import TimerSet

__all__ = ["AsyncFlow", "EffectFailed", "FlowClosed"]

_log = get_logger("taskchart.runtime")


class FlowClosed(RuntimeError):
    """The flow's worker was closed or stopped; no more events are processed."""


class EffectFailed(RuntimeError):
    """``on_effect`` raised while performing the effects of processed events.

    The events were processed (``outcomes`` holds their outcomes) and every
    other effect was still performed; ``__cause__`` is the first exception.
    """

    def __init__(self, message: str, outcomes: Sequence[Outcome]) -> None:
        super().__init__(message)
        self.outcomes = list(outcomes)


_Item = tuple[Sequence[Event], "asyncio.Future[list[Outcome]] | None"]
"""Events and the future of their sender (None for a timer's event: nobody awaits it)."""


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
        failures = self._perform(effects)
        if failures:
            effect, first = failures[0]
            message = f"on_effect raised {type(first).__name__} performing {type(effect).__name__}"
            raise EffectFailed(f"{message}: {first}", []) from first
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
        elif self._worker.done():
            raise self._stopped()
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
            await asyncio.wait([self._worker])  # returns even if the worker was cancelled

    async def _run(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                if item is None:
                    return
                self._process(*item)
        finally:  # cancelled from outside, or closed: nobody waits on a dead queue
            error = self._stopped()
            while not self._queue.empty():
                left = self._queue.get_nowait()
                if left is not None and left[1] is not None and not left[1].done():
                    left[1].set_exception(error)

    def _process(
        self, events: Sequence[Event], future: asyncio.Future[list[Outcome]] | None
    ) -> None:
        outcomes = self.interpreter.handle_batch(events)  # never raises
        failures: list[tuple[Effect, Exception]] = []
        for outcome in outcomes:
            if isinstance(outcome, Accepted):
                failures += self._perform(outcome.effects)
        if future is None or future.done():  # a timer's event, or a sender gone
            for effect, exc in failures:
                _log.error("effect_failed", effect=type(effect).__name__, error=type(exc).__name__)
        elif failures:
            effect, first = failures[0]
            error = EffectFailed(
                f"on_effect raised {type(first).__name__} performing {type(effect).__name__}"
                f" ({len(failures)} effect(s) failed): {first}",
                outcomes,
            )
            error.__cause__ = first
            future.set_exception(error)
        else:
            future.set_result(outcomes)

    def _perform(self, effects: Sequence[Effect]) -> list[tuple[Effect, Exception]]:
        """Perform every effect; the ones whose ``on_effect`` raised, with the exception."""
        failures: list[tuple[Effect, Exception]] = []
        for effect in effects:
            self._timers.perform(effect)
            if self.on_effect is not None:
                try:
                    self.on_effect(effect)
                except Exception as exc:
                    failures.append((effect, exc))
        return failures

    def _stopped(self) -> FlowClosed:
        if self._closed:
            return FlowClosed("this flow is closed")
        return FlowClosed("the flow's worker stopped (it was cancelled); the flow takes no events")

    def _timer_fired(self, timer_id: str) -> None:
        if not self._closed and self._worker is not None and not self._worker.done():
            self._queue.put_nowait(([TimerFired(timer_id)], None))
