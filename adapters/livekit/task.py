"""``AgentTask``: LiveKit's task, with an implicit chart and a final completion.

A hand-written task in the LiveKit style (``class X(AgentTask[T])``,
``@function_tool`` methods, ``self.complete(result)``) runs unchanged: this
class *is* a ``livekit.agents.AgentTask``. What it adds:

- ``complete`` is final: a second call raises a ``ToolError`` the model can
  read ("already complete; the first result stands") instead of LiveKit's
  internal error, and the first result is kept.
- The result type ``T`` of ``class X(AgentTask[T])`` (a dataclass or attrs
  class) is registered (:mod:`taskchart.runtime.results`), so a durable
  task group gives it back as a ``T``, not a dict, after a worker restart.
- :func:`task_spec` describes the task as an implicit chart
  (``active -> complete | failed``) with its own tool names, so it can be
  drawn, checked and run inside a :class:`~taskchart.adapters.livekit.TaskGroup`.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from typing import Any, TypeVar

import attrs
from livekit.agents import AgentTask as _LiveKitAgentTask
from livekit.agents import llm
from livekit.agents.llm import ToolError
from taskchart.runtime.results import register_result_type, registered
from taskchart.statecharts import TaskSpec, implicit_task
from taskchart.statecharts.chart import RESERVED_IDS

__all__ = ["AgentTask", "chart_id", "task_spec", "tool_names"]

T = TypeVar("T")


class AgentTask(_LiveKitAgentTask[T]):
    """A LiveKit ``AgentTask`` whose completion is final and whose chart is known.

    Use it exactly like ``livekit.agents.AgentTask``::

        class CollectConsent(AgentTask[bool]):
            def __init__(self, chat_ctx=None):
                super().__init__(instructions="Ask for recording consent.", chat_ctx=chat_ctx)

            @function_tool
            async def consent_given(self) -> None:
                self.complete(True)
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            for kind in typing.get_args(base):
                if (
                    isinstance(kind, type)
                    and (dataclasses.is_dataclass(kind) or attrs.has(kind))
                    and not registered(kind)
                ):
                    register_result_type(kind)

    def complete(self, result: T | Exception) -> None:
        if self.done():
            raise ToolError(
                f"The task {self.id} is already complete; the first result stands. "
                "Do not call its tools again."
            )
        super().complete(result)


def _declarative_spec(task: type[Any] | Any) -> TaskSpec | None:
    from .chart_task import ChartTask

    if isinstance(task, type):
        if not issubclass(task, ChartTask):
            return None
        make: Any = getattr(task, "example", task)
        try:
            task = make()
        except TypeError:  # needs arguments and offers no example()
            return None
    spec = getattr(task, "spec", None)
    return spec if isinstance(spec, TaskSpec) and spec.kind == "declarative" else None


def tool_names(task: type[Any] | Any) -> tuple[str, ...]:
    """The names of a task's own function tools (class or instance)."""
    cls = task if isinstance(task, type) else type(task)
    names = [
        member.info.name
        for _, member in inspect.getmembers(cls)
        if isinstance(member, llm.FunctionTool | llm.RawFunctionTool)
    ]
    if not isinstance(task, type):
        names += [
            t.info.name
            for t in getattr(task, "tools", [])
            if isinstance(t, llm.FunctionTool | llm.RawFunctionTool) and t.info.name not in names
        ]
    return tuple(names)


def chart_id(task_id: str) -> str:
    """A chart-safe id for any task id (identifier, no ``__``, not a reserved name)."""
    safe = re.sub(r"\W", "_", task_id).strip("_") or "task"
    safe = re.sub(r"_{2,}", "_", safe)
    safe = safe if safe[0].isalpha() else f"t_{safe}"
    return f"{safe}_task" if safe in RESERVED_IDS else safe


def task_spec(task: type[Any] | Any, *, id: str | None = None, description: str = "") -> TaskSpec:
    """The chart spec of a task class or instance.

    A chart-run task (``ChartTask``, the prebuilt tasks) gives its own
    declarative spec, from the instance or, for a class, from
    ``cls.example()`` or ``cls()``; a hand-written task gets its implicit
    chart (``active -> complete | failed``) with its tool names.
    """
    cls = task if isinstance(task, type) else type(task)
    declarative = _declarative_spec(task)
    if declarative is not None:
        if id is None and not description:
            return declarative
        return attrs.evolve(
            declarative,
            id=chart_id(id) if id else declarative.id,
            description=description or declarative.description,
        )
    from livekit.agents.utils import misc

    raw_id = id or getattr(task, "id", None) if not isinstance(task, type) else id
    task_id = chart_id(raw_id or misc.camel_to_snake_case(cls.__name__))
    return implicit_task(task_id, tools=tool_names(task), description=description)
