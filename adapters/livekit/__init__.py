"""Drop-in LiveKit Agents classes backed by charts.

Change only the import lines::

    from taskchart.adapters.livekit import AgentTask, TaskGroup

``AgentTask`` is a real ``livekit.agents.AgentTask``; ``TaskGroup`` has the
constructor, ``add()``, ``out_of_scope`` tool and ``TaskGroupResult`` of
``livekit.agents.beta.workflows.TaskGroup``, with the order and regression
kept in a group chart; ``ChartTask`` runs a declarative task chart. Offline
testing helpers: :mod:`.testing`.

Names load on first use, so importing this package (the pytest plugin does)
costs nothing until LiveKit is actually needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from taskchart.runtime.extras import missing_extra

if TYPE_CHECKING:
    from livekit.agents import RunContext, function_tool

    from .card import (
        CardCaptureDeclinedError,
        CardCollectionRestartError,
        GetCardNumberResult,
        GetCardNumberTask,
        GetCreditCardResult,
        GetCreditCardTask,
        GetExpirationDateResult,
        GetExpirationDateTask,
        GetSecurityCodeResult,
        GetSecurityCodeTask,
    )
    from .chart_task import ChartTask
    from .dtmf import DtmfEvent, GetDtmfResult, GetDtmfTask
    from .errors import (
        DeclinedError,
        NoInputError,
        NoMatchError,
        SessionClosedError,
        TaskFailedError,
        register_error_type,
    )
    from .group import TaskCompletedEvent, TaskGroup, TaskGroupResult
    from .menu import MenuResult, MenuTask, menu_group
    from .prebuilt import (
        GetAddressResult,
        GetAddressTask,
        GetDOBResult,
        GetDOBTask,
        GetEmailResult,
        GetEmailTask,
        GetNameResult,
        GetNameTask,
        GetPhoneNumberResult,
        GetPhoneNumberTask,
        WorkflowInstructions,
    )
    from .task import AgentTask, task_spec

_WHERE = {
    "AgentTask": ".task",
    "task_spec": ".task",
    "ChartTask": ".chart_task",
    "DeclinedError": ".errors",
    "NoInputError": ".errors",
    "NoMatchError": ".errors",
    "SessionClosedError": ".errors",
    "TaskFailedError": ".errors",
    "register_error_type": ".errors",
    "TaskCompletedEvent": ".group",
    "TaskGroup": ".group",
    "TaskGroupResult": ".group",
    "GetAddressResult": ".prebuilt",
    "GetAddressTask": ".prebuilt",
    "GetDOBResult": ".prebuilt",
    "GetDOBTask": ".prebuilt",
    "GetEmailResult": ".prebuilt",
    "GetEmailTask": ".prebuilt",
    "GetNameResult": ".prebuilt",
    "GetNameTask": ".prebuilt",
    "GetPhoneNumberResult": ".prebuilt",
    "GetPhoneNumberTask": ".prebuilt",
    "WorkflowInstructions": ".prebuilt",
    "MenuResult": ".menu",
    "MenuTask": ".menu",
    "menu_group": ".menu",
    "DtmfEvent": ".dtmf",
    "GetDtmfResult": ".dtmf",
    "GetDtmfTask": ".dtmf",
    "CardCaptureDeclinedError": ".card",
    "CardCollectionRestartError": ".card",
    "GetCardNumberResult": ".card",
    "GetCardNumberTask": ".card",
    "GetCreditCardResult": ".card",
    "GetCreditCardTask": ".card",
    "GetExpirationDateResult": ".card",
    "GetExpirationDateTask": ".card",
    "GetSecurityCodeResult": ".card",
    "GetSecurityCodeTask": ".card",
    "RunContext": "livekit.agents",
    "function_tool": "livekit.agents",
}

__all__ = [
    "AgentTask",
    "CardCaptureDeclinedError",
    "CardCollectionRestartError",
    "ChartTask",
    "DeclinedError",
    "DtmfEvent",
    "GetAddressResult",
    "GetAddressTask",
    "GetCardNumberResult",
    "GetCardNumberTask",
    "GetCreditCardResult",
    "GetCreditCardTask",
    "GetDOBResult",
    "GetDOBTask",
    "GetDtmfResult",
    "GetDtmfTask",
    "GetEmailResult",
    "GetEmailTask",
    "GetExpirationDateResult",
    "GetExpirationDateTask",
    "GetNameResult",
    "GetNameTask",
    "GetPhoneNumberResult",
    "GetPhoneNumberTask",
    "GetSecurityCodeResult",
    "GetSecurityCodeTask",
    "MenuResult",
    "MenuTask",
    "NoInputError",
    "NoMatchError",
    "RunContext",
    "SessionClosedError",
    "TaskCompletedEvent",
    "TaskFailedError",
    "TaskGroup",
    "TaskGroupResult",
    "WorkflowInstructions",
    "function_tool",
    "menu_group",
    "register_error_type",
    "task_spec",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(where, __name__ if where.startswith(".") else None)
    except ModuleNotFoundError as exc:  # LiveKit is an optional dependency
        raise missing_extra(exc, f"{__name__}.{name}") from exc
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
