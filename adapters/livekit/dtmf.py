"""``GetDtmfTask``: digits from keypad tones (``sip_dtmf_received``) or spoken, as a chart.

Same constructor, tools (``record_inputs``, ``confirm_inputs``) and result
(``GetDtmfResult.user_input``, keys joined by spaces) as LiveKit's
``beta.workflows.dtmf_inputs.GetDtmfTask``. Too few keys at the stop key or
after the inter-key pause fail the task with LiveKit's ``ToolError``
("Digits input not fully received ..."); ``max_retries=N`` re-prompts up to
N times first. Where LiveKit falls short this does better: spoken digits
must have ``num_digits`` keys; tones that arrive while a reply is being generated are kept; tones from a
participant other than the caller are ignored; the caller can decline
(``decline_dtmf_capture``); the inter-key timer runs on an injectable clock::

    result = await GetDtmfTask(num_digits=10, ask_for_confirmation=True,
                               chat_ctx=self.chat_ctx)
    print(result.user_input)  # "4 1 5 5 5 5 0 1 9 9"

As in LiveKit, a caller who says and keys nothing is waited for. Opt in to
silence handling with ``input_timeout`` (as ``MenuTask`` names it) or a whole
:class:`~taskchart.statecharts.InputHandler`: silence after the prompt is
re-prompted, then the task fails with ``NoInputError``::

    await GetDtmfTask(num_digits=4, no_input=InputHandler(
        timeout=6.0, prompts=["Sorry, I didn't hear you. Please key in your PIN."],
        max_retries=1))
"""

from __future__ import annotations

from livekit.agents import llm
from livekit.agents.llm.chat_context import ChatContext, Instructions
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from livekit.agents.utils import is_given
from taskchart.runtime import Clock
from taskchart.runtime.logs import get_logger
from taskchart.statecharts import InputHandler
from taskchart.statecharts.prebuilt import DtmfEvent, GetDtmfResult, dtmf

from .chart_task import ChartTask

__all__ = ["DtmfEvent", "GetDtmfResult", "GetDtmfTask"]

_log = get_logger("taskchart.livekit.dtmf")


class GetDtmfTask(ChartTask[GetDtmfResult]):
    """Collect ``num_digits`` keypad digits; ``await`` gives :class:`GetDtmfResult`.

    ``caller_identity`` names the participant whose tones count; by default
    the session's linked participant, else the first participant that presses
    a key. ``clock`` runs the inter-key timer (tests pass a ``SimulatedClock``).
    ``max_retries`` re-prompts a short entry that many times before the task fails.

    Opt-in, none by default (LiveKit's behaviour): ``no_input`` handles silence
    after the prompt (re-prompts, then :class:`NoInputError`), ``input_timeout``
    is its short form (``InputHandler(timeout=input_timeout)``: two re-prompts
    in the runtime's words); ``no_match`` handles caller turns that give no
    usable digits (re-prompts, then :class:`NoMatchError`). Where a group goes
    when they give up is the group's ``routes``, so a handler has no ``exit``.
    """

    def __init__(
        self,
        *,
        num_digits: int,
        ask_for_confirmation: bool = False,
        dtmf_input_timeout: float = 4.0,
        dtmf_stop_event: DtmfEvent = DtmfEvent.POUND,
        chat_ctx: NotGivenOr[ChatContext] = NOT_GIVEN,
        extra_instructions: NotGivenOr[str] = NOT_GIVEN,
        tools: NotGivenOr[list[llm.Tool | llm.Toolset]] = NOT_GIVEN,
        caller_identity: str | None = None,
        clock: Clock | None = None,
        max_retries: int = 0,
        input_timeout: float | None = None,
        no_input: InputHandler | None = None,
        no_match: InputHandler | None = None,
    ) -> None:
        if num_digits <= 0:
            raise ValueError("num_digits must be greater than 0")
        if input_timeout is not None:
            if no_input is not None:
                raise ValueError("give input_timeout or no_input, not both")
            no_input = InputHandler(timeout=input_timeout)
        if no_input is not None and no_input.timeout is None:
            raise ValueError("no_input needs a timeout: the seconds of silence that count")
        if any(h is not None and h.exit is not None for h in (no_input, no_match)):
            raise ValueError(
                "a handler's exit names a task of a flow: in a TaskGroup, "
                "add(..., routes={'no_input': ...}) says where to go instead"
            )
        stop = DtmfEvent(dtmf_stop_event).value
        spec = dtmf.dtmf_spec(
            num_digits,
            ask_for_confirmation,
            dtmf_input_timeout,
            stop,
            max_retries,
            no_input,
            no_match,
        )
        how = dtmf.CONFIRM if ask_for_confirmation else dtmf.RECORD
        super().__init__(
            spec,
            instructions=Instructions(f"{dtmf.BASE}{how}"),
            extra_instructions=extra_instructions if is_given(extra_instructions) else "",
            chat_ctx=chat_ctx,
            tools=list(tools) if is_given(tools) else None,
            ignore_on_enter=("decline_dtmf_capture",),
            clock=clock,
            caller_identity=caller_identity,
        )

    @classmethod
    def example(cls) -> GetDtmfTask:
        """A 4-digit instance, to draw and check the chart."""
        return cls(num_digits=4, ask_for_confirmation=True)
