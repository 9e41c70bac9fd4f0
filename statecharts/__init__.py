"""Pure chart models: task specs, fields and the compiled transition table.

Nothing in this package performs I/O or imports LiveKit.
"""

from .chart import Chart, StateDef, TransitionDef, compile_chart
from .fields import Field, FieldError
from .model import (
    Declined,
    FlowModel,
    NoInput,
    NoMatch,
    SessionClosed,
    StartOver,
    TaskFailure,
    TaskGroupResult,
)
from .task import (
    Confirmation,
    InputHandler,
    Keypad,
    TaskSpec,
    Tool,
    declarative_task,
    implicit_task,
)

__all__ = [
    "Chart",
    "Confirmation",
    "Declined",
    "Field",
    "FieldError",
    "FlowModel",
    "InputHandler",
    "Keypad",
    "NoInput",
    "NoMatch",
    "SessionClosed",
    "StartOver",
    "StateDef",
    "TaskFailure",
    "TaskGroupResult",
    "TaskSpec",
    "Tool",
    "TransitionDef",
    "compile_chart",
    "declarative_task",
    "implicit_task",
]
