"""``ChartTask``: a LiveKit task run by a declarative task chart.

The chart decides what the model may do. On every model request only the
tools whose events the chart enables are offered (plus the task's own extra
tools and a group's ``out_of_scope``); a call the chart refuses returns a
``ToolError`` with the chart's reason and changes nothing. The tool calls of
one model turn go through the chart together, confirmations last, so
``[confirm, update(new value)]`` in one turn never completes with the stale
value. User turns are counted from the conversation, so a confirmation is
only accepted after the user answered the read-back. The call's own events
(tones, speech states) reach the chart through :mod:`.call_events`; the
tools' schemas come from :mod:`.chart_tools`.

A spec from :func:`~taskchart.statecharts.declarative_task` needs no
``_check_completion`` code and no hand-written tools::

    spec = declarative_task("behavioral", BehavioralResults, fields=[...],
                            confirmation=Confirmation.NEVER)
    result = await ChartTask(spec, chat_ctx=self.chat_ctx)
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from typing import Any, Literal, TypeVar

from livekit import rtc
from livekit.agents import Agent, ModelSettings, RunContext, llm
from livekit.agents.llm import ToolError, ToolFlag, function_tool
from livekit.agents.llm.chat_context import Instructions
from livekit.agents.llm.utils import parse_function_arguments
from livekit.agents.types import NOT_GIVEN, FlushSentinel, NotGivenOr
from taskchart.runtime import (
    DEFAULT_REGRESS_TOOL,
    Accepted,
    Clock,
    Complete,
    Effect,
    Event,
    Fail,
    Instruct,
    Interpreter,
    LoopClock,
    ModalitySet,
    Outcome,
    Rejected,
    Resumed,
    TimerFired,
    TimerSet,
    ToolCalled,
    UserSpoke,
    restore,
)
from taskchart.runtime.events import MODALITIES
from taskchart.runtime.turns import unmatched
from taskchart.statecharts import TaskSpec, compile_chart
from taskchart.statecharts.fields import shown
from taskchart.statecharts.task import Modality

from .call_events import CallListener
from .chart_tools import append_instructions, heard_read_back, tool_name, tool_schema
from .errors import livekit_error
from .task import AgentTask

__all__ = ["ChartTask"]

T = TypeVar("T")


class _Turn:
    """The chart tool calls of one model response, processed together once all arrived.

    ``expected`` holds the call ids LiveKit will invoke, in stream order: a
    call whose arguments LiveKit cannot parse, a repeated id, or any call
    under ``tool_choice="none"`` is never invoked, so it is not waited for.
    """

    def __init__(self) -> None:
        self.expected: list[str] = []
        self.events: dict[str, ToolCalled] = {}
        self.results: dict[str, asyncio.Future[Outcome]] = {}
        self.stream_done = False
        self.processed = False
        self.goes_back = False
        self.fresh = False  # the response answers a new caller turn
        self.other_tools = False  # it called a tool that is not the chart's
        self.finished = False  # the stream ended on its own, not cut by an interruption

    @property
    def complete(self) -> bool:
        return all(cid in self.events for cid in self.expected)


_STRAGGLER_TICKS = 200
"""Loop iterations a streamed call may take to reach its tool once the stream
ended (LiveKit takes a handful). A call still missing then is one LiveKit did
not invoke (a mocked tool, an interrupted speech): the turn goes on without it."""


class ChartTask(AgentTask[T]):
    """Run ``spec`` as a LiveKit ``AgentTask``; the result is the spec's result.

    ``instructions`` (a string or LiveKit ``Instructions`` with audio and text
    variants) default to the spec's; ``extra_instructions`` are appended;
    ``tools`` are offered beside the chart's. ``modality`` fixes the input
    modality before the first user turn; by default it is the modality of
    the turn that started the task (or audio when the session has audio
    input). Tools named in ``ignore_on_enter`` are not offered to the reply
    the task starts with (LiveKit's ``ToolFlag.IGNORE_ON_ENTER``).

    A spec with a keypad takes tones (``sip_dtmf_received``) from the caller
    (``caller_identity``, by default the session's linked participant). A spec
    with ``no_input`` or ``no_match`` handling listens to the call: the
    no-input timer (on ``clock``) waits while the agent speaks
    (``agent_state_changed``) and stops when the caller speaks
    (``user_state_changed``), the caller's ``away`` state counts as no input,
    and a caller turn the model answers with no tool of the step, or with a
    value the step refuses, counts as a no-match.
    """

    def __init__(
        self,
        spec: TaskSpec,
        *,
        instructions: str | Instructions | None = None,
        extra_instructions: str = "",
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        tools: Sequence[llm.Tool | llm.Toolset] | None = None,
        modality: Modality | None = None,
        ignore_on_enter: Iterable[str] = (),
        clock: Clock | None = None,
        caller_identity: str | None = None,
        **agent_kwargs: Any,
    ) -> None:
        if spec.kind != "declarative":
            raise ValueError("ChartTask runs declarative specs; subclass AgentTask instead")
        self.spec = spec
        self.chart = compile_chart(spec)
        self.flow = Interpreter(self.chart, modality=modality or "text")
        self._modality_given = modality is not None
        self._origin_modality = _awaiting_turn_modality()
        self._chart_tools = {t.name for t in spec.tools}
        self._ignore_on_enter = frozenset(ignore_on_enter)
        self._timers = TimerSet(clock or LoopClock(), self._timer_fired)
        text: str | Instructions = instructions if instructions is not None else spec.instructions
        if extra_instructions:
            text = append_instructions(text, extra_instructions)
        super().__init__(
            instructions=text or f"Collect the user's {spec.label}.",
            chat_ctx=chat_ctx,
            tools=[*(self._tool(t.name) for t in spec.tools), *(tools or [])],
            **agent_kwargs,
        )
        self._turns: dict[str, _Turn] = {}
        self._answers: dict[str, tuple[ToolCalled, asyncio.Future[Outcome]]] = {}
        self.regression_check: Callable[[Any], bool] | None = None
        """Set by a group: whether its ``out_of_scope`` would accept these task ids now.
        A turn that goes back processes none of this task's calls (the one-turn rules)."""
        self._user_messages_seen: int | None = None
        self._resumed = False
        self._call_events = CallListener(
            self.feed, caller_identity, clock=self._timers.clock, open=lambda: not self.done()
        )
        self._rearm = False
        self.on_accepted: Callable[[], Awaitable[None]] | None = None
        """Set by a durable group: saves the flow after an accepted event (a tool call's
        answer waits for it)."""
        self._saves: set[asyncio.Future[None]] = set()

    # -- LiveKit hooks ----------------------------------------------------------------
    def resume(self, state: dict[str, Any], *, rearm: bool = False) -> None:
        """Continue from a snapshot of an interrupted run of the same spec (before entering).

        A task group calls this when the caller comes back from correcting an
        earlier task: the fields collected so far are kept, and a value that
        was being confirmed is read back again before it can be confirmed.
        ``rearm``: start the snapshot's timers again with the time left (a
        call resumed by another worker).
        """
        self.flow = restore(self.chart, state)
        self._resumed = True
        self._rearm = rearm

    async def on_enter(self) -> None:
        self._listen()
        if not self._modality_given:
            self.flow.handle(ModalitySet(self._session_modality()))
        if self._resumed:
            resumed = self.flow.handle(Resumed())
            effects = resumed.effects if resumed.ok else ()
            if self._rearm:
                self._timers.perform_all(self.flow.start())
            text = " ".join(e.instructions for e in effects if isinstance(e, Instruct))
        else:
            effects = self.flow.start()
            self._timers.perform_all(effects)
            text = " ".join(e.instructions for e in effects if isinstance(e, Instruct))
        modality = self._reply_modality
        # the reply carries the call's modality, so a value the model takes from
        # earlier in a voice call is read back and confirmed like a spoken one
        if text:
            self.session.generate_reply(instructions=text, input_modality=modality)
        else:
            self.session.generate_reply(input_modality=modality)
        self._call_events.ready()  # tones pressed before it started, as if pressed now

    async def on_exit(self) -> None:
        self._unlisten()
        self._timers.close()

    # -- the call's own events (:mod:`.call_events`) ------------------------------------
    def _listen(self) -> None:
        self._call_events.listen(
            self.session,
            keypad=self.spec.keypad is not None,
            speech=self.spec.no_input is not None or self.spec.no_match is not None,
            on_dtmf=self._on_sip_dtmf_received,
        )

    def _unlisten(self) -> None:
        self._call_events.close()

    def _on_sip_dtmf_received(self, ev: rtc.SipDTMF) -> None:
        self._call_events.dtmf(ev)

    def _from_caller(self, participant: rtc.RemoteParticipant | None) -> bool:
        return self._call_events.from_caller(participant)

    def feed(self, event: Event) -> Outcome:
        """Send an event that is not a tool call (a tone, a timer) and act on its effects.

        Instructions it yields become a reply; the end of the flow completes the task.
        """
        if self.done():
            return Rejected("finished", "This task has already finished.")
        outcome = self._handle_batch([event])[0]
        if isinstance(outcome, Accepted):
            self._save_soon()
        if isinstance(outcome, Accepted) and not self.done():
            text = " ".join(e.instructions for e in outcome.effects if isinstance(e, Instruct))
            if text:
                self.session.interrupt()
                self.session.generate_reply(instructions=text, input_modality=self._reply_modality)
        return outcome

    def _save_soon(self) -> None:
        """Have a durable group save the flow, without waiting for it (saves run in order)."""
        if self.on_accepted is not None:
            save = asyncio.ensure_future(self.on_accepted())
            self._saves.add(save)
            save.add_done_callback(self._saves.discard)

    def _feed_open(self, event: Event) -> None:
        if not self.done():
            self.feed(event)

    def _timer_fired(self, timer_id: str) -> None:
        self.feed(TimerFired(timer_id))

    @property
    def _reply_modality(self) -> Literal["audio", "text"]:
        return "audio" if self.flow.model.modality == "audio" else "text"

    def _session_modality(self) -> Modality:
        """The modality of the turn that started this task, else of the session's input."""
        if self._origin_modality is not None:
            return self._origin_modality
        speech = self.session.current_speech
        if speech is not None:
            return speech.input_details.modality
        return "audio" if self.session.input.audio is not None else "text"

    async def llm_node(
        self,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        model_settings: ModelSettings,
    ) -> AsyncIterable[llm.ChatChunk | str | FlushSentinel]:
        fresh = self._count_user_turns(chat_ctx)
        enabled = set(self.flow.tools)
        offered = [
            t for t in tools if tool_name(t) not in self._chart_tools or tool_name(t) in enabled
        ]
        turn = _Turn()
        turn.fresh = fresh
        no_tools = model_settings.tool_choice == "none"
        try:
            async for chunk in Agent.default.llm_node(self, chat_ctx, offered, model_settings):
                if isinstance(chunk, llm.ChatChunk) and chunk.delta and chunk.delta.tool_calls:
                    for call in chunk.delta.tool_calls:
                        if no_tools:
                            continue
                        if call.name in self._chart_tools:
                            self._expect(turn, call)
                        else:
                            turn.other_tools = True
                            if call.name == DEFAULT_REGRESS_TOOL and self._goes_back(call):
                                turn.goes_back = True
                yield chunk
            turn.finished = True
        finally:  # an interrupted reply still processes the calls it made
            turn.stream_done = True
            self._maybe_process(turn)

    def _goes_back(self, call: llm.FunctionToolCall) -> bool:
        """Whether the group will accept this call to go back (its checker says)."""
        if self.regression_check is None:
            return False
        try:
            arguments = parse_function_arguments(call.arguments or "{}")
            return self.regression_check(arguments.get("task_ids"))
        except Exception:
            return False

    def _expect(self, turn: _Turn, call: llm.FunctionToolCall) -> None:
        """Wait for ``call`` in ``turn`` if LiveKit will invoke it.

        LiveKit answers a call whose arguments it cannot parse with its own
        error and never invokes the tool; a repeated id (a provider retrying a
        stream) is refused by LiveKit while the first runs, or answered with
        the first call's answer once it is done (:meth:`_call`).
        """
        if call.call_id in self._turns or call.call_id in self._answers:
            return
        try:  # LiveKit's own parser, so both sides agree on what is invoked
            arguments = parse_function_arguments(call.arguments or "{}")
        except Exception:
            return
        canonical = json.dumps(arguments, default=str)
        if canonical != (call.arguments or "{}"):
            call.arguments = canonical  # what LiveKit would write back, repaired once
        turn.expected.append(call.call_id)
        self._turns[call.call_id] = turn

    # -- tools --------------------------------------------------------------------------
    def _tool(self, name: str) -> llm.RawFunctionTool[Any, Any]:
        schema = tool_schema(self.spec, name)
        task = self

        async def invoke(raw_arguments: dict[str, Any], context: RunContext[Any]) -> str | None:
            return await task._call(name, raw_arguments, context)

        flags = ToolFlag.IGNORE_ON_ENTER if name in self._ignore_on_enter else ToolFlag.NONE
        return function_tool(invoke, raw_schema=schema, flags=flags)

    async def _call(self, name: str, arguments: Any, context: RunContext[Any]) -> str | None:
        modality = context.speech_handle.input_details.modality
        if modality != self.flow.model.modality and modality in MODALITIES:
            self.flow.handle(ModalitySet(modality))
        call_id = context.function_call.call_id
        event = ToolCalled(
            name,
            arguments,
            call_id,
            heard=heard_read_back(self.spec, self.chat_ctx, name, arguments),
        )
        earlier = self._answers.get(call_id)
        if earlier is not None:  # the same id again (a retried stream): answered once
            first, answer = earlier
            if (first.name, first.arguments) != (name, arguments):
                raise ToolError(
                    f"This call repeats the id {shown(call_id, 40)} of an earlier {first.name} "
                    "call with other arguments; it was not processed. Call again with a new id."
                )
            return self._reply(await self._saved(await asyncio.shield(answer)))
        turn = self._turns.pop(call_id, None)
        if turn is None or turn.processed:  # not seen in a stream (called directly): alone
            turn = _Turn()
            turn.expected.append(call_id)
            turn.stream_done = True
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._answers[call_id] = (event, future)
        turn.events[call_id] = event
        turn.results[call_id] = future
        self._maybe_process(turn)
        return self._reply(await self._saved(await asyncio.shield(future)))

    async def _saved(self, outcome: Outcome) -> Outcome:
        """``outcome``, once a durable group has saved the flow it changed."""
        if isinstance(outcome, Accepted) and self.on_accepted is not None:
            await self.on_accepted()
        return outcome

    def _reply(self, outcome: Outcome) -> str | None:
        if isinstance(outcome, Rejected):
            raise ToolError(outcome.message)
        if self.flow.done:
            return None  # the task is over: no reply is needed inside it
        return outcome.message or None

    def _maybe_process(self, turn: _Turn, ticks: int = _STRAGGLER_TICKS) -> None:
        if turn.processed or not turn.stream_done:
            return
        if not turn.complete:
            if ticks > 0:
                asyncio.get_running_loop().call_soon(self._maybe_process, turn, ticks - 1)
                return
            for cid in turn.expected:  # LiveKit did not invoke it: stop waiting for it
                if cid not in turn.events and self._turns.get(cid) is turn:
                    del self._turns[cid]
        turn.processed = True
        ids = [cid for cid in turn.expected if cid in turn.events]
        events = [turn.events[cid] for cid in ids]
        outcomes = self._handle_batch(events, goes_back=turn.goes_back) if ids else []
        for cid, outcome in zip(ids, outcomes, strict=True):
            turn.results[cid].set_result(outcome)
        if turn.fresh and turn.finished and not turn.other_tools and not self.done():
            miss = unmatched(self.flow, events, outcomes)
            if miss is not None:  # the caller's whole turn gave the step nothing it can use
                # outside the reply's context: LiveKit would otherwise make the task's
                # end (a NoMatchError) the turn's own outcome and raise it from run()
                asyncio.get_running_loop().call_soon(
                    self._feed_open, miss, context=contextvars.Context()
                )

    def _handle_batch(self, events: Sequence[Event], *, goes_back: bool = False) -> list[Outcome]:
        """Send events to the flow and act on their effects at once.

        Effects are performed here, not by the tool calls awaiting the
        outcomes: a call LiveKit cancels (an interruption) must not leave the
        flow finished and the LiveKit task running.
        """
        outcomes = self.flow.handle_batch(events, goes_back=goes_back)
        for outcome in outcomes:
            if isinstance(outcome, Accepted):
                self._perform(outcome.effects)
        self._finish_with_flow()
        return outcomes

    def _perform(self, effects: Sequence[Effect]) -> bool:
        """Run timers; complete the LiveKit task on the flow's end (True when it ended)."""
        self._timers.perform_all(effects)
        for effect in effects:
            if isinstance(effect, Complete):
                if not self.done():
                    self.complete(effect.result)
                return True
            if isinstance(effect, Fail):
                if not self.done():
                    self.complete(self.error_for(effect.error))
                return True
        return False

    def _finish_with_flow(self) -> None:
        """Complete the LiveKit task if the flow has ended: the two never disagree."""
        if not self.flow.done or self.done():
            return
        error = self.flow.error
        self.complete(self.flow.result if error is None else self.error_for(error))

    def error_for(self, failure: Exception) -> Exception:
        """The exception awaiting code gets when the chart fails (override to map failures)."""
        return livekit_error(failure, self.spec.label)

    def _count_user_turns(self, chat_ctx: llm.ChatContext) -> bool:
        """Count the caller's new turns; True when there were any."""
        users = [m for m in chat_ctx.messages() if m.role == "user"]
        if self._user_messages_seen is None:
            self._user_messages_seen = len(users)
            return False
        new = users[self._user_messages_seen :]
        for message in new:
            self._handle_batch([UserSpoke(message.text_content or "", self.flow.model.modality)])
        self._user_messages_seen = len(users)
        if new:  # saved now: a worker that dies before the next tool call keeps the turn
            self._save_soon()
        return bool(new)


def _awaiting_turn_modality() -> Modality | None:
    """The input modality of the turn whose tool is creating this task, if any."""
    try:
        from livekit.agents.voice.agent_activity import _SpeechHandleContextVar
    except ImportError:  # pragma: no cover - a LiveKit without it: fall back to the session
        return None
    handle = _SpeechHandleContextVar.get(None)
    return None if handle is None else handle.input_details.modality
