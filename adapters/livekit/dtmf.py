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
"""

from __future__ import annotations

from livekit.agents import llm
from livekit.agents.llm.chat_context import ChatContext, Instructions
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from livekit.agents.utils import is_given
from taskchart.runtime import Clock
from taskchart.runtime.logs import get_logger
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
    ) -> None:
        if num_digits <= 0:
            raise ValueError("num_digits must be greater than 0")
        stop = DtmfEvent(dtmf_stop_event).value
        spec = dtmf.dtmf_spec(
            num_digits, ask_for_confirmation, dtmf_input_timeout, stop, max_retries
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
