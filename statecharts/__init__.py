"""Pure chart models: task specs, fields and the compiled transition table.

Nothing in this package performs I/O or imports LiveKit. Read it in this order:

* the spec: :mod:`.task` (what a task collects and how it confirms),
  :mod:`.fields`, :mod:`.spoken` and :mod:`.spoofing` (values and their
  normalisers), :mod:`.failures`, and :mod:`.prebuilt` (LiveKit's tasks as specs);
* the table: :mod:`.table` (states and rows as data, built from the specs);
* the bindings: :mod:`.bindings` (the one registry of guards, actions and hooks
  the rows name), :mod:`.model` (the flow's data they act on) and
  :mod:`.signals` (what they report);
* the chart: :mod:`.chart` (table plus bindings, with its cached views),
  :mod:`.definition` (the same chart as a python-statemachine class);
* the analysis: :mod:`.possible` (rows that can never fire), :mod:`.graph`
  (the leaf graph the checks and the generated tests walk);
* the engines: :mod:`.engines` (the table engine, and python-statemachine
  behind the same surface); :mod:`.journal` (the journal format).
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
