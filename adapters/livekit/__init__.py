"""Drop-in LiveKit Agents classes backed by charts.

Change only the import lines::

    from taskchart.adapters.livekit import AgentTask, TaskGroup

``AgentTask`` is a real ``livekit.agents.AgentTask``; ``TaskGroup`` has the
constructor, ``add()``, ``out_of_scope`` tool and ``TaskGroupResult`` of
``livekit.agents.beta.workflows.TaskGroup``, with the order and regression
kept in a group chart. Offline testing helpers: :mod:`.testing`.
"""

from livekit.agents import RunContext, function_tool

from .chart_task import ChartTask, DeclinedError, TaskFailedError
from .group import TaskCompletedEvent, TaskGroup, TaskGroupResult
from .task import AgentTask, task_spec

__all__ = [
    "AgentTask",
    "ChartTask",
    "DeclinedError",
    "RunContext",
    "TaskCompletedEvent",
    "TaskFailedError",
    "TaskGroup",
    "TaskGroupResult",
    "function_tool",
    "task_spec",
]
