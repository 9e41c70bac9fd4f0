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

With a ``store`` and a ``flow_id`` the flow is durable: opening it takes the
flow's lease and resumes a stored running flow in place of the interpreter
given (timers re-armed with the time left, the model told where the call
stands); every accepted event is saved before its effects are performed and
its sender answered; the end of the flow is saved as finished. A store that
cannot be reached is logged and the flow goes on in memory
(:attr:`AsyncFlow.store_error`).

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
from typing import Any, Unpack

from taskchart.statecharts.keywords import check_keywords

from . import messages
from .clock import Clock, LoopClock
from .digest import chart_digest
from .durable import (
    Checkpointer,
    Durability,
    Loaded,
    RecordError,
    SaveFailed,
    StoreError,
    checkpointer,
)
from .effects import Effect, Instruct
from .events import Event, Resumed, TimerFired
from .interpreter import Interpreter
from .logs import get_logger
from .outcome import Accepted, Outcome
from .private import card_data_in
from .snapshots import SnapshotError, restore, snapshot
from .store_errors import flow_ref
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
    """An :class:`Interpreter` behind an asyncio queue with a dedicated worker.

    ``store``, ``flow_id``: make the flow durable (see the module docs);
    ``secret`` marks a flow holding card data (stored only under a key; a flow
    is, whatever it says, from the first card value it holds);
    ``lease_ttl``/``lease_wait``: see :class:`~taskchart.runtime.durable.Checkpointer`.
    """

    def __init__(
        self,
        interpreter: Interpreter,
        *,
        clock: Clock | None = None,
        on_effect: Callable[[Effect], Any] | None = None,
        **durable: Unpack[Durability],
    ) -> None:
        check_keywords("AsyncFlow", durable, Durability)
        self.interpreter = interpreter
        self.clock: Clock = clock or LoopClock()
        self.on_effect = on_effect
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._timers = TimerSet(self.clock, self._timer_fired)
        self._closed = False
        self._link: Checkpointer | None = None
        if durable.get("store") is not None or durable.get("flow_id") is not None:
            if durable.get("store") is None or not durable.get("flow_id"):
                raise ValueError("a durable flow needs both a store and a flow_id")
            self._link = checkpointer(durable, kind="flow", digest=chart_digest(interpreter.chart))
        self._opened = self._link is None
        self._opening: asyncio.Task[tuple[Effect, ...]] | None = None
        #: Whether :meth:`open` resumed a stored flow.
        self.resumed = False
        self._lost: StoreError | None = None
        self._finished = False
        #: Whether the stored flow's card data had not been kept (no key): it starts again.
        self.dropped = False

    @property
    def store_error(self) -> StoreError | None:
        """Why the flow's latest state is only in memory (None: it is stored, or not durable)."""
        return self._link.error if self._link is not None else None

    async def __aenter__(self) -> AsyncFlow:
        await self.open()
        return self

    async def open(self) -> tuple[Effect, ...]:
        """Resume the stored flow if there is one (durable flows), then :meth:`start`.

        Raises :class:`~taskchart.runtime.durable.LeaseHeld` when another
        worker runs the flow and :class:`~taskchart.runtime.durable.RecordError`
        when the stored flow no longer fits the chart: nothing is restored then.
        """
        if self._opening is None:  # one opening, which every concurrent sender awaits
            self._opening = asyncio.get_running_loop().create_task(self._open())
            return await asyncio.shield(self._opening)
        await asyncio.shield(self._opening)
        return ()

    async def _open(self) -> tuple[Effect, ...]:
        link = self._link
        if self._opened or link is None:
            self._opened = True
            return self.start()
        loaded = await link.open()
        try:
            effects = await self._resume(link, loaded)
        except BaseException:
            await self.aclose()  # a flow that did not open keeps no worker nor lease
            raise
        self._opened = True
        return effects

    async def _resume(self, link: Checkpointer, loaded: Loaded | None) -> tuple[Effect, ...]:
        resumed: Outcome | None = None
        if loaded is not None and loaded.finished:  # a finished flow ends as it did, or runs anew
            loaded = await self._finished_before(link, loaded)
        if loaded is not None and loaded.state is not None:
            old = self.interpreter
            try:
                self.interpreter = restore(
                    old.chart,
                    loaded.state,
                    regress_tool=old.regress_tool,
                    engine=old.engine,
                    clock=old.now,
                    record=old.journal is not None,
                )
            except SnapshotError as exc:
                raise RecordError(
                    f"stored flow {flow_ref(link.flow_id)} cannot be restored: {exc}"
                ) from exc
            self.resumed = True
            resumed = self.interpreter.handle(Resumed())  # where the call stands, for the model
        effects = self.start()
        if loaded is not None and loaded.dropped:
            self.dropped = True
            task = self.interpreter.active_task
            note = (Instruct(messages.DETAILS_DROPPED, task),)
            effects = (*effects, *note)
            self._perform(note)
        if self.interpreter.done:
            return effects
        if resumed is not None and isinstance(resumed, Accepted):
            effects = (*effects, *resumed.effects)
            self._perform(resumed.effects)
        await self._save()
        return effects

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
        if self._lost is not None:
            raise self._lost
        if self._closed:
            raise FlowClosed("this flow is closed")
        if not self._opened:
            await self.open()
            if self._lost is not None:
                raise self._lost
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
        if self._link is not None:  # a running flow stays stored for the next worker
            await self._link.close()

    async def _run(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                if item is None:
                    return
                await self._process(*item)
        finally:  # cancelled from outside, or closed: nobody waits on a dead queue
            error = self._stopped()
            while not self._queue.empty():
                left = self._queue.get_nowait()
                if left is not None and left[1] is not None and not left[1].done():
                    left[1].set_exception(error)

    async def _process(
        self, events: Sequence[Event], future: asyncio.Future[list[Outcome]] | None
    ) -> None:
        outcomes = self.interpreter.handle_batch(events)  # never raises
        if self._link is not None and any(isinstance(o, Accepted) for o in outcomes):
            try:  # saved before anyone hears of it: a crash now loses an unanswered event
                await self._save()
            except StoreError as lost:  # another worker wrote it, or it cannot be saved
                self._lost = lost
                if future is not None and not future.done():
                    future.set_exception(lost)
                return
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

    async def _finished_before(self, link: Checkpointer, loaded: Loaded) -> Loaded | None:
        """A completed stored flow, restored as it ended; None for one that failed (runs anew)."""
        try:
            done = restore(self.interpreter.chart, loaded.state, clock=self.interpreter.now)
        except SnapshotError:
            return None
        if done.result is None:
            return None
        self.interpreter, self.resumed, self._finished = done, True, True
        await link.close()
        return None

    async def _save(self) -> None:
        link = self._link
        if link is None or self._lost is not None or self._finished:
            return
        flow = self.interpreter
        self._finished = done = flow.done
        link.secret = link.secret or card_data_in(flow)  # once card data, for good
        try:
            await link.save(lambda: snapshot(flow), finished=done)
        except StoreError:
            raise
        except Exception as exc:
            why = str(exc) if isinstance(exc, SnapshotError) else type(exc).__name__
            self._lost = SaveFailed(
                f"the flow's state could not be saved ({why}); it takes no events"
            )
            raise self._lost from exc
        if done:  # kept as finished (or deleted): nothing more is saved
            await link.close()

    def _stopped(self) -> FlowClosed:
        if self._closed:
            return FlowClosed("this flow is closed")
        return FlowClosed("the flow's worker stopped (it was cancelled); the flow takes no events")

    def _timer_fired(self, timer_id: str) -> None:
        if not self._closed and self._worker is not None and not self._worker.done():
            self._queue.put_nowait(([TimerFired(timer_id)], None))
