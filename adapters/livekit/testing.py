r"""Offline testing helpers for LiveKit flows: a scripted LLM and an in-process session.

:class:`ScriptedLLM` answers each LLM request of a real ``AgentSession`` with
the next step of a script and fails loudly (:class:`ScriptError`) when a step
calls a tool the request did not offer or when the script runs out.
:class:`OfflineSession` starts the session with no server, network, STT, TTS,
VAD or turn-detector model, and lets the loop settle after every user turn so
code awaiting an ``AgentTask`` or ``TaskGroup`` has resumed before you assert.
Fixtures for pytest: :mod:`taskchart.adapters.livekit.pytest_plugin`.

Example (the test suite runs this block verbatim)::

    import asyncio

    from livekit.agents import Agent, AgentTask, function_tool
    from taskchart.adapters.livekit.testing import Call, OfflineSession, Step


    class CollectConsent(AgentTask[bool]):
        def __init__(self) -> None:
            super().__init__(instructions="Ask for recording consent.")

        async def on_enter(self) -> None:
            await self.session.generate_reply(instructions="Ask to record the call.")

        @function_tool
        async def consent_given(self) -> None:
            '''The user agrees to be recorded.'''
            self.complete(True)


    class Receptionist(Agent):
        def __init__(self) -> None:
            super().__init__(instructions="You are a receptionist.")
            self.consent: bool | None = None

        async def on_enter(self) -> None:
            self.consent = await CollectConsent()
            await self.session.generate_reply(instructions="Offer your help.")


    async def main() -> None:
        agent = Receptionist()
        script: list[Step] = ["May I record this call?", Call("consent_given"), "Hi!"]
        async with OfflineSession(agent=agent, llm=script) as offline:
            result = await offline.say("Yes, that's fine")
            result.expect.next_event().is_function_call(name="consent_given")
            assert agent.consent is True
            assert offline.llm.requests[1].tools == ["consent_given"]
            offline.llm.assert_done()


    asyncio.run(main())
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import re
import tempfile
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Never, Protocol, Self, TypeAlias, TypeVar

from taskchart.runtime.extras import missing_extra

try:
    from livekit import rtc
    from livekit.agents import (
        DEFAULT_API_CONNECT_OPTIONS,
        NOT_GIVEN,
        Agent,
        AgentSession,
        APIConnectOptions,
        NotGivenOr,
        RunResult,
        llm,
    )
except ModuleNotFoundError as exc:  # an optional dependency: say which extra brings it
    raise missing_extra(exc, "taskchart.adapters.livekit.testing") from exc

if TYPE_CHECKING:
    from livekit.agents.job import JobContext

__all__ = [
    "SUMMARY_PROMPT",
    "Call",
    "OfflineSession",
    "OfflineSessionFactory",
    "Reply",
    "Request",
    "ScriptError",
    "ScriptedLLM",
    "ScriptedLLMFactory",
    "Step",
    "Summary",
    "default_summary",
    "settle",
]

_T = TypeVar("_T")

SUMMARY_PROMPT = "Compress older conversation history"
"""How LiveKit's summarization request (``ChatContext._summarize``) begins."""

_USER_TURN = re.compile(r"<user>\n(.*?)\n</user>", re.DOTALL)
_DTMF_CODES = {
    **{str(d): d for d in range(10)},
    "*": 10,
    "#": 11,
    "A": 12,
    "B": 13,
    "C": 14,
    "D": 15,
}


class ScriptError(AssertionError):
    """The scripted LLM got a request its script cannot answer as written."""


class Call:
    """A scripted tool call: ``Call("record_intro", name="Ana")`` or ``Call("f", {"x": 1})``.

    ``name`` and ``args`` are positional-only, so tool parameters may be called
    ``name`` too. A ``str`` in place of the mapping is sent verbatim as the
    arguments JSON (to test malformed arguments). The call id is generated per
    request unless :meth:`with_call_id` fixes it (to test repeated ids, as a
    provider sends when LiveKit retries a stream).
    """

    __slots__ = ("args", "arguments", "call_id", "name")

    def __init__(
        self, name: str, args: Mapping[str, Any] | str | None = None, /, **kwargs: Any
    ) -> None:
        self.name = name
        if isinstance(args, str):
            if kwargs:
                raise TypeError("Call() takes raw JSON arguments or keyword arguments, not both")
            self.args: dict[str, Any] = {}
            self.arguments = args
        else:
            self.args = {**(args or {}), **kwargs}
            self.arguments = json.dumps(self.args)
        self.call_id: str | None = None

    def with_call_id(self, call_id: str) -> Call:
        """This call, sent with the id ``call_id`` instead of a generated one."""
        call = Call(self.name, self.arguments)
        call.args = self.args
        call.call_id = call_id
        return call

    def __repr__(self) -> str:
        suffix = "" if self.call_id is None else f".with_call_id({self.call_id!r})"
        return f"Call({self.name!r}, {self.arguments}){suffix}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Call):
            return NotImplemented
        return (self.name, self.arguments, self.call_id) == (
            other.name,
            other.arguments,
            other.call_id,
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Summary:
    """A script step that answers the next summarization request with ``text``."""

    text: str


Reply: TypeAlias = str | Call | list[str | Call]
"""Text, one tool call, or several items sent in one turn."""

Step: TypeAlias = Reply | Summary | Callable[["Request"], Reply]
"""A reply, an explicit :class:`Summary`, or a callable computing the reply."""


@dataclass
class Request:
    """One LLM request as the session sent it (``chat_ctx`` is a copy)."""

    index: int
    chat_ctx: llm.ChatContext
    tools: list[str]
    tool_choice: NotGivenOr[llm.ToolChoice]
    is_summary: bool
    parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN
    function_tools: list[llm.FunctionTool[..., Any] | llm.RawFunctionTool[..., Any]] = field(
        default_factory=list, repr=False
    )

    @cached_property
    def schemas(self) -> list[dict[str, Any]]:
        """OpenAI-format schemas of the offered tools (built on first use: a few ms each)."""
        if not self.function_tools:
            return []
        return llm.ToolContext(self.function_tools).parse_function_tools("openai")

    def schema(self, name: str) -> dict[str, Any]:
        """The OpenAI-format schema of the offered tool ``name``."""
        for schema in self.schemas:
            if schema["function"]["name"] == name:
                return schema
        raise KeyError(f"tool {name!r} was not offered; offered tools: {self.tools}")

    @property
    def instructions(self) -> str:
        """The system and developer messages, joined by newlines."""
        return "\n".join(
            m.text_content or ""
            for m in self.chat_ctx.messages()
            if m.role in ("system", "developer")
        )

    @property
    def user_text(self) -> str | None:
        """The text of the last user message, if any."""
        for message in reversed(self.chat_ctx.messages()):
            if message.role == "user":
                return message.text_content
        return None

    def describe(self) -> str:
        """A one-line description for error messages."""
        instructions = " ".join(self.instructions.split())
        if len(instructions) > 80:
            instructions = instructions[:77] + "..."
        errors = "".join(f"; the session answered {e}" for e in self.tool_errors)
        return (
            f"LLM request #{self.index} offered tools {self.tools}; "
            f"last user message {self.user_text!r}; instructions {instructions!r}{errors}"
        )

    @property
    def tool_errors(self) -> list[str]:
        """The tool errors the session returned since the last user message, as
        ``name: output`` (a misspelled argument shows here)."""
        errors: list[str] = []
        for item in self.chat_ctx.items:
            if item.type == "message" and item.role == "user":
                errors.clear()
            elif item.type == "function_call_output" and item.is_error:
                output = " ".join(str(item.output).split())
                errors.append(f"{item.name}: {output[:300]}")
        return errors


def default_summary(request: Request) -> str:
    """A deterministic summary quoting what the user said in the summarized turns."""
    said = [s.strip() for s in _USER_TURN.findall(request.user_text or "") if s.strip()]
    if not said:
        return "The user has not said anything yet."
    return "The user said: " + "; ".join(json.dumps(s, ensure_ascii=False) for s in said)


def _check_reply(reply: object, where: str) -> list[str | Call]:
    checked: list[str | Call] = []
    for item in reply if isinstance(reply, list) else [reply]:
        if not isinstance(item, str | Call):
            raise ScriptError(f"{where}: a reply is a str, a Call or a list of them, got {item!r}")
        checked.append(item)
    return checked


class ScriptedLLM(llm.LLM[Never]):
    """An ``llm.LLM`` that answers each request with the next step of a script.

    Every request is recorded in :attr:`requests`. Summarization requests (no
    tools, LiveKit's "Compress older conversation history" prompt) are
    answered with ``summary`` (text, a callable, or :func:`default_summary`)
    without using a step, unless the next step is a :class:`Summary`.
    """

    def __init__(
        self,
        steps: Iterable[Step] = (),
        *,
        summary: str | Callable[[Request], str] | None = None,
    ) -> None:
        super().__init__()
        self.summary = summary
        self.requests: list[Request] = []
        self.failures: list[ScriptError] = []
        """Every :class:`ScriptError` raised so far, also those LiveKit only logged."""
        self._steps: deque[Step] = deque()
        self._used = 0
        self.extend(steps)

    @property
    def model(self) -> str:
        return "scripted"

    @property
    def provider(self) -> str:
        return "taskchart"

    @property
    def remaining(self) -> int:
        """How many script steps are left."""
        return len(self._steps)

    def extend(self, steps: Iterable[Step]) -> None:
        """Append steps to the script."""
        for step in steps:
            if isinstance(step, list):
                _check_reply(step, "script step")
            elif not isinstance(step, str | Call | Summary) and not callable(step):
                raise TypeError(f"not a script step: {step!r}")
            self._steps.append(step)

    def assert_done(self) -> None:
        """Raise :class:`ScriptError` if the script failed or steps were left unused."""
        if self.failures:
            raise ScriptError(f"the script failed: {self.failures[0]}") from self.failures[0]
        if self._steps:
            raise ScriptError(
                f"{len(self._steps)} script step(s) never used after "
                f"{len(self.requests)} request(s): {list(self._steps)!r}"
            )

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        offered = [t for t in tools or [] if isinstance(t, llm.FunctionTool | llm.RawFunctionTool)]
        messages = chat_ctx.messages()
        request = Request(
            index=len(self.requests),
            chat_ctx=chat_ctx.copy(),
            tools=[t.info.name for t in offered],
            tool_choice=tool_choice,
            is_summary=not offered
            and bool(messages)
            and messages[0].role == "system"
            and (messages[0].text_content or "").startswith(SUMMARY_PROMPT),
            parallel_tool_calls=parallel_tool_calls,
            function_tools=offered,
        )
        self.requests.append(request)
        try:
            items = self._answer(request)
        except ScriptError as error:
            self.failures.append(error)
            raise
        return _ScriptedStream(
            self,
            request.index,
            items,
            chat_ctx=chat_ctx,
            tools=tools or [],
            conn_options=conn_options,
        )

    def _answer(self, request: Request) -> list[str | Call]:
        next_step = self._steps[0] if self._steps else None
        if request.is_summary and not isinstance(next_step, Summary):
            return [self._summary_text(request)]
        if next_step is None:
            raise ScriptError(f"script exhausted after {self._used} step(s): {request.describe()}")
        step = self._steps.popleft()
        self._used += 1
        where = f"script step {self._used}"
        if isinstance(step, Summary):
            if not request.is_summary:
                raise ScriptError(f"{where} is {step!r}, but {request.describe()}")
            return [step.text]
        if isinstance(step, str | Call | list):
            reply: object = step
        else:
            try:
                reply = step(request)
            except ScriptError:
                raise
            except Exception as error:
                raise ScriptError(f"{where} raised {error!r} for {request.describe()}") from error
        items = _check_reply(reply, where)
        for item in items:
            if isinstance(item, Call):
                if item.name not in request.tools:
                    raise ScriptError(
                        f"{where} calls tool {item.name!r}, which was not offered: "
                        f"{request.describe()}"
                    )
                if request.tool_choice == "none":
                    raise ScriptError(f"{where} calls {item.name!r} but tool_choice is 'none'")
        return items

    def _summary_text(self, request: Request) -> str:
        if self.summary is None:
            return default_summary(request)
        if isinstance(self.summary, str):
            return self.summary
        try:
            text = self.summary(request)
        except Exception as error:
            raise ScriptError(f"the summary callable raised {error!r}") from error
        if not isinstance(text, str):
            raise ScriptError(f"the summary callable returned {text!r}, not a str")
        return text


class _ScriptedStream(llm.LLMStream):
    def __init__(
        self, owner: ScriptedLLM, index: int, items: list[str | Call], **kwargs: Any
    ) -> None:
        super().__init__(owner, **kwargs)
        self._index = index
        self._items = items

    async def _run(self) -> None:
        chunk_id = f"scripted-{self._index}"
        for position, item in enumerate(self._items):
            if isinstance(item, Call):
                call = llm.FunctionToolCall(
                    name=item.name,
                    arguments=item.arguments,
                    call_id=item.call_id or f"call_{self._index}_{position}",
                )
                delta = llm.ChoiceDelta(role="assistant", tool_calls=[call])
            else:
                delta = llm.ChoiceDelta(role="assistant", content=item)
            self._event_ch.send_nowait(llm.ChatChunk(id=chunk_id, delta=delta))


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

    async def dtmf(self, digit: str, participant: rtc.RemoteParticipant | None = None) -> None:
        """Press keypad keys (``0-9 * # A-D``, one or several) on the room, settling after each."""
        self._require_running()
        if not digit or any(key not in _DTMF_CODES for key in digit):
            raise ValueError(f"not DTMF keys: {digit!r} (use 0-9, *, #, A-D)")
        for key in digit:
            event = rtc.SipDTMF(code=_DTMF_CODES[key], digit=key, participant=participant)
            self._context.run(self.room.emit, "sip_dtmf_received", event)
            await self.settle()

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


class ScriptedLLMFactory(Protocol):
    """The ``scripted_llm`` fixture: builds a :class:`ScriptedLLM`."""

    def __call__(
        self, steps: Iterable[Step] = (), *, summary: str | Callable[[Request], str] | None = None
    ) -> ScriptedLLM: ...


class OfflineSessionFactory(Protocol):
    """The ``offline_session`` fixture: starts an :class:`OfflineSession`, closed at teardown."""

    def __call__(
        self,
        agent: Agent,
        llm: ScriptedLLM | Iterable[Step],
        *,
        userdata: Any = None,
        **session_kwargs: Any,
    ) -> Awaitable[OfflineSession]: ...
