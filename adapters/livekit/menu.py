"""``MenuTask``: a keypad menu as a LiveKit task, run by its chart.

A tone that is an option selects it at once, even while the prompt still
plays (the tone interrupts it); a tone that is no option is a no-match and
the options are read again; a spoken choice goes through ``select_option``;
silence after the prompt is a no-input. Every failure draws on one budget:
after ``max_retries`` re-prompts (wrong keys, unmatched answers and silences
together) the next failure ends the task with ``NoMatchError`` (a wrong key
or an unmatched answer) or ``NoInputError`` (silence); ``max_retries=0``
fails at the first one::

    result = await MenuTask(
        prompt="Main menu.",
        options={"1": "deposit accounts", "2": "credit cards"},
        max_retries=2,
        input_timeout=5.0,
    )
    result.key, result.label  # "2", "credit cards"

In a :class:`~taskchart.adapters.livekit.TaskGroup`, ``add(..., routes=...)``
sends the flow on by the chosen key (submenus, tasks, ``*`` back) and by
``"no_match"``/``"no_input"`` to an operator task. :func:`menu_group` builds
that group from the task specs of
:func:`~taskchart.statecharts.prebuilt.menu.menu_flow`, the same ones a pure
chart compiles, so one definition of the menus serves both.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from livekit import rtc
from livekit.agents import AgentTask as _LiveKitAgentTask
from livekit.agents import llm
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from taskchart.runtime import Clock
from taskchart.statecharts import TaskSpec
from taskchart.statecharts.prebuilt.menu import SELECT_TOOL, MenuResult, menu_spec
from taskchart.statecharts.task import KEYPAD_KEYS, THEN

from .chart_task import ChartTask
from .group import TaskGroup

__all__ = ["MenuResult", "MenuTask", "menu_group"]


class _MenuChart(ChartTask[MenuResult]):
    """A menu's chart as a task: a keypad key pressed while the prompt plays cuts it
    short (a tone that is no key, as a malformed SIP event, leaves it playing)."""

    def _on_sip_dtmf_received(self, ev: rtc.SipDTMF) -> None:
        key = ev.digit if isinstance(ev.digit, str) else ""
        if key in KEYPAD_KEYS and self._from_caller(ev.participant) and not self.done():
            self.session.interrupt()  # a key during the prompt cuts it short, and counts
        super()._on_sip_dtmf_received(ev)


def is_menu(spec: TaskSpec) -> bool:
    """Whether ``spec`` is a menu's chart (:func:`menu_spec`)."""
    return spec.keypad is not None and any(t.name == SELECT_TOOL for t in spec.tools)


def menu_group(
    specs: Sequence[TaskSpec],
    tasks: Mapping[str, Callable[[], _LiveKitAgentTask[Any]]],
    *,
    clock: Clock | None = None,
    **group_kwargs: Any,
) -> TaskGroup:
    """Nested menus as a :class:`TaskGroup`: ``specs`` from ``menu_flow``, each menu run
    as a menu task (on ``clock``), every other task made by ``tasks[its id]``; the
    routes, ``then`` and operator exits are the specs' own. ``group_kwargs`` go to
    ``TaskGroup`` (``summarize_chat_ctx``, ``store``, ...)."""
    group = TaskGroup(**group_kwargs)
    for spec in specs:
        factory: Callable[[], _LiveKitAgentTask[Any]]
        if spec.id in tasks:
            factory = tasks[spec.id]
        elif is_menu(spec):
            factory = functools.partial(_MenuChart, spec, clock=clock)
        else:
            raise ValueError(f"task {spec.id!r} is no menu: give its factory in tasks")
        routes = {k: v for k, v in spec.route_table.items() if k != THEN}
        description = spec.description or f"The {spec.id.replace('_', ' ')} menu"
        group.add(factory, id=spec.id, description=description, routes=routes, then=spec.then)
    return group


class MenuTask(_MenuChart):
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
