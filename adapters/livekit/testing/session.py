"""The offline session: a real ``AgentSession`` in-process, with no I/O.

Rules of this file: no server, network, STT, TTS, VAD or turn-detector
model; every user turn, keypad key and start ends with the loop settled, so
code awaiting an ``AgentTask`` or ``TaskGroup`` has resumed before a test
asserts; a :class:`~taskchart.adapters.livekit.testing.ScriptError` that
LiveKit only logged is raised by the next call that settles.

Theory of operation: the session runs inside LiveKit's ``fake_job_context``
around an unconnected ``rtc.Room``, entered in a context of its own that
every session task descends from, so ``get_job_context()`` works and
keypad tones emitted on the room reach the tasks listening for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import re
import tempfile
from collections.abc import Coroutine, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar

from livekit import rtc
from livekit.agents import Agent, AgentSession, RunResult, llm
from livekit.agents.voice.events import (
    AgentState,
    AgentStateChangedEvent,
    UserState,
    UserStateChangedEvent,
)

from .script import Step
from .scripted import ScriptedLLM

if TYPE_CHECKING:
    from livekit.agents.job import JobContext

_T = TypeVar("_T")

_DTMF_CODES = {
    **{str(d): d for d in range(10)},
    "*": 10,
    "#": 11,
    "A": 12,
    "B": 13,
    "C": 14,
    "D": 15,
}


def _loop_busy(loop: asyncio.AbstractEventLoop) -> bool | None:
    ready = getattr(loop, "_ready", None)  # CPython's BaseEventLoop internals
    if ready is None:
        return None
    if ready:
        return True
    scheduled = getattr(loop, "_scheduled", None)
    if scheduled:
        first = scheduled[0]
        return bool(not first.cancelled() and first.when() <= loop.time())
    return False


async def settle(*, idle_rounds: int = 3, max_rounds: int = 100_000) -> None:
    """Run the event loop until no callback is ready (timers due later do not count).

    LiveKit can finish a ``RunResult`` before the code awaiting an
    ``AgentTask`` or ``TaskGroup`` resumes; settle before asserting on it.
    On loops other than CPython's (no ``_ready`` queue) it yields
    ``max(idle_rounds, 200)`` times instead.
    """
    loop = asyncio.get_running_loop()
    if _loop_busy(loop) is None:
        for _ in range(max(idle_rounds, 200)):
            await asyncio.sleep(0)
        return
    idle = 0
    for _ in range(max_rounds):
        await asyncio.sleep(0)
        idle = 0 if _loop_busy(loop) else idle + 1
        if idle >= idle_rounds:
            return
    raise RuntimeError(f"the event loop was still busy after {max_rounds} rounds")


_SPEECH_TASK = "AgentActivity._create_speech_task.<locals>._context_aware_coro"
_CLOSE_CANCELLATION = re.compile(r"AgentTask \S+ is cancelled")


def _retrieve_close_cancellations(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Silence the ``ToolError`` LiveKit raises in code awaiting a task it cancels on close.

    Without this, every session closed mid-task logs "Task exception was never
    retrieved" when garbage-collected. Other exceptions of LiveKit's speech
    tasks are reported through the loop's exception handler at once.
    """
    loop = asyncio.get_running_loop()
    for task in tasks:
        coro = task.get_coro()
        if not task.done() or task.cancelled() or getattr(coro, "__qualname__", "") != _SPEECH_TASK:
            continue
        error = task.exception()
        if error is None:
            continue
        if isinstance(error, llm.ToolError) and _CLOSE_CANCELLATION.fullmatch(str(error)):
            continue
        loop.call_exception_handler(
            {"message": "Task exception was never retrieved", "exception": error, "future": task}
        )


class OfflineSession:
    """A real ``AgentSession`` run in-process with a :class:`ScriptedLLM` and no I/O.

    The session has ``vad=None``, manual turn detection, no user-away timer
    and no STT/TTS (``session_kwargs`` override or extend these), and runs
    inside LiveKit's ``fake_job_context`` around an unconnected ``rtc.Room``,
    so ``get_job_context().room`` works and :meth:`dtmf` reaches listeners.
    Use ``async with`` or :meth:`start` / :meth:`aclose`.
    """

    def __init__(
        self,
        agent: Agent,
        llm: ScriptedLLM | Iterable[Step],
        *,
        userdata: Any = None,
        **session_kwargs: Any,
    ) -> None:
        self.agent = agent
        self.llm = llm if isinstance(llm, ScriptedLLM) else ScriptedLLM(llm)
        options: dict[str, Any] = {
            "vad": None,
            "turn_handling": {"turn_detection": "manual"},
            "user_away_timeout": None,
            **session_kwargs,
        }
        if userdata is not None:
            options["userdata"] = userdata
        self._session: AgentSession[Any] = AgentSession(llm=self.llm, **options)
        # the session's tasks all descend from this context: it holds the fake
        # job context, and start/aclose run in it so LiveKit's tokens match
        self._context = contextvars.copy_context()
        self._job_cm: contextlib.AbstractContextManager[JobContext] | None = None
        self._job_context: JobContext | None = None
        self._room: rtc.Room | None = None
        self._start_run: RunResult[Any] | None = None
        self._reported = 0
        self._closed = False
        self._agent_state: AgentState = "listening"
        self._user_state: UserState = "listening"

    @property
    def session(self) -> AgentSession[Any]:
        """The underlying LiveKit ``AgentSession``."""
        return self._session

    @property
    def start_run(self) -> RunResult[Any]:
        """What the session did on start (``on_enter`` of the first agent)."""
        if self._start_run is None:
            raise RuntimeError("the session has not started")
        return self._start_run

    @property
    def room(self) -> rtc.Room:
        """The unconnected room of the fake job context."""
        if self._room is None:
            raise RuntimeError("the session has not started")
        return self._room

    @property
    def job_context(self) -> JobContext:
        """The fake ``JobContext`` that ``get_job_context()`` returns inside the session."""
        if self._job_context is None:
            raise RuntimeError("the session has not started")
        return self._job_context

    async def start(self) -> RunResult[Any]:
        """Start the session, wait for the first agent's ``on_enter`` and settle."""
        if self._start_run is not None or self._closed:
            raise RuntimeError("an OfflineSession starts once")
        from livekit.agents.testing import fake_job_context

        self._room = rtc.Room()
        self._job_cm = fake_job_context(room=self._room)
        self._job_context = self._context.run(self._job_cm.__enter__)
        try:
            run = await self._in_context(self._session.start(self.agent, capture_run=True))
            self._start_run = run
            await self._finish(run)
        except BaseException:
            await self.aclose()
            raise
        return run

    async def say(
        self, text: str, *, modality: Literal["text", "audio"] = "text"
    ) -> RunResult[Any]:
        """Run one user turn, then settle; LiveKit's errors and :class:`ScriptError` propagate."""
        self._require_running()
        run: RunResult[Any] = self._context.run(
            self._session.run, user_input=text, input_modality=modality
        )
        await self._finish(run)
        return run

    async def dtmf(
        self,
        digit: str,
        participant: rtc.RemoteParticipant | None = None,
        *,
        burst: bool = False,
    ) -> None:
        """Press keypad keys (``0-9 * # A-D``, one or several) on the room, settling after
        each; with ``burst`` all at once, settling after the last (a fast caller: keys
        that reach the room before the session has acted on the ones before)."""
        self._require_running()
        if not digit or any(key not in _DTMF_CODES for key in digit):
            raise ValueError(f"not DTMF keys: {digit!r} (use 0-9, *, #, A-D)")
        for key in digit:
            event = rtc.SipDTMF(code=_DTMF_CODES[key], digit=key, participant=participant)
            self._context.run(self.room.emit, "sip_dtmf_received", event)
            if not burst:
                await self.settle()
        if burst:
            await self.settle()

    async def agent_state(self, state: AgentState) -> None:
        """Emit ``agent_state_changed`` to ``state`` as the session does, then settle."""
        self._require_running()
        old, self._agent_state = self._agent_state, state
        event = AgentStateChangedEvent(old_state=old, new_state=state)
        self._context.run(self._session.emit, "agent_state_changed", event)
        await self.settle()

    async def user_state(self, state: UserState) -> None:
        """Emit ``user_state_changed`` to ``state`` (``speaking``, ``listening``, ``away``)
        as the session does, then settle."""
        self._require_running()
        old, self._user_state = self._user_state, state
        event = UserStateChangedEvent(old_state=old, new_state=state)
        self._context.run(self._session.emit, "user_state_changed", event)
        await self.settle()

    async def spoke(self) -> None:
        """The agent spoke a prompt: ``speaking``, then ``listening``."""
        await self.agent_state("speaking")
        await self.agent_state("listening")

    async def settle(self) -> None:
        """Let the loop go idle, then raise any :class:`ScriptError` not surfaced yet."""
        await settle()
        self.check()

    def check(self) -> None:
        """Raise the first :class:`ScriptError` this session has not surfaced yet."""
        failures = self.llm.failures[self._reported :]
        self._reported = len(self.llm.failures)
        if failures:
            raise failures[0]

    async def aclose(self) -> None:
        """Close the session and the fake job context; no session task survives it."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._start_run is not None or self._job_cm is not None:
                pending = asyncio.all_tasks()
                await self._in_context(self._session.aclose())
                await settle()
                _retrieve_close_cancellations(pending)
        finally:
            if self._job_cm is not None:
                self._context.run(self._job_cm.__exit__, None, None, None)
                tempdir = getattr(self._job_context, "_tempdir", None)
                if isinstance(tempdir, tempfile.TemporaryDirectory):
                    tempdir.cleanup()  # else it warns when garbage-collected
                self._job_cm = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
        if exc is None:
            self.check()

    def _require_running(self) -> None:
        if self._start_run is None or self._closed:
            raise RuntimeError("the OfflineSession is not running (use `async with` or start())")

    async def _in_context(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return await asyncio.create_task(coro, context=self._context)

    async def _finish(self, run: RunResult[Any]) -> None:
        try:
            await run
        except Exception as error:
            await settle()
            failures = self.llm.failures[self._reported :]
            self._reported = len(self.llm.failures)
            if failures and failures[0] is not error:
                raise failures[0] from error
            raise
        await self.settle()
