"""``MenuTask``: a keypad menu as a LiveKit task, run by its chart.

A tone that is an option selects it at once, even while the prompt still
plays (the tone interrupts it); a tone that is no option is a no-match and
the options are read again; a spoken choice goes through ``select_option``;
silence after the prompt is a no-input. After ``max_retries`` re-prompts of
a kind the next failure ends the task with ``NoMatchError`` or
``NoInputError`` (``max_retries=0`` fails at the first one)::

    result = await MenuTask(
        prompt="Main menu.",
        options={"1": "deposit accounts", "2": "credit cards"},
        max_retries=2,
        input_timeout=5.0,
    )
    result.key, result.label  # "2", "credit cards"

In a :class:`~taskchart.adapters.livekit.TaskGroup`, ``add(..., routes=...)``
sends the flow on by the chosen key (submenus, tasks, ``*`` back) and by
``"no_match"``/``"no_input"`` to an operator task.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from livekit import rtc
from livekit.agents import llm
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from taskchart.runtime import Clock
from taskchart.statecharts.prebuilt.menu import MenuResult, menu_spec

from .chart_task import ChartTask

__all__ = ["MenuResult", "MenuTask"]


class MenuTask(ChartTask[MenuResult]):
    """Ask the caller to choose one of ``options`` (key -> label); ``await`` gives
    :class:`MenuResult` (``key``, ``label``). ``repeat_key`` (say ``"#"``) reads the
    menu again; ``clock`` runs the no-input timer (tests pass a ``SimulatedClock``)."""

    def __init__(
        self,
        *,
        prompt: str,
        options: Mapping[str, str],
        max_retries: int = 2,
        input_timeout: float = 5.0,
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        extra_instructions: str = "",
        tools: Sequence[llm.Tool | llm.Toolset] | None = None,
        repeat_key: str | None = None,
        clock: Clock | None = None,
        caller_identity: str | None = None,
        **agent_kwargs: Any,
    ) -> None:
        spec = menu_spec(
            prompt,
            options,
            max_retries=max_retries,
            input_timeout=input_timeout,
            repeat_key=repeat_key,
        )
        super().__init__(
            spec,
            extra_instructions=extra_instructions,
            chat_ctx=chat_ctx,
            tools=tools,
            clock=clock,
            caller_identity=caller_identity,
            **agent_kwargs,
        )

    @classmethod
    def example(cls) -> MenuTask:
        """A two-option menu, to draw and check the chart."""
        return cls(prompt="Main menu.", options={"1": "deposit accounts", "2": "credit cards"})

    def _on_sip_dtmf_received(self, ev: rtc.SipDTMF) -> None:
        if self._from_caller(ev.participant) and not self.done():
            self.session.interrupt()  # a tone during the prompt cuts it short, and counts
        super()._on_sip_dtmf_received(ev)
