"""Property testing for any chart: hypothesis strategies and a generated state machine.

Three lines in your own test file property-test a flow (a :class:`Chart`, a
:class:`TaskSpec`, a list of specs, or a zero-argument factory of any):

.. code-block:: python

    from taskchart.runtime.testing import flow_state_machine
    from myapp.flows import checkout_chart
    TestCheckout = flow_state_machine(checkout_chart).TestCase

Rules of this file: it needs ``hypothesis`` (a ``dev`` extra), so nothing in
the runtime imports it. Strategies are built from the chart's task specs:
valid values come from a pool of realistic raw inputs filtered through each
field's own ``clean`` (kept only when cleaning is idempotent, because a
snapshot re-cleans stored values); invalid values are the pool entries the
field refuses.

Theory of operation: :func:`flow_state_machine` returns a
``RuleBasedStateMachine`` whose rules are what can happen in a call: the
model calls an offered tool with valid values, an offered tool with invalid
values, a tool that is not offered, several tools in one turn (duplicates
included, through :meth:`Interpreter.handle_batch`), the user speaks, a
running timer fires, a hand-written task returns or raises, the session
closes, the next call starts once a flow has ended. Each rule draws one
integer, which a walker turns into an event from what the flow allows now
(one cheap draw per step; hypothesis shrinks integers well); one rule plays
a burst of such events from a single draw of bytes, which is how most
events of a run are played (hypothesis's cost per rule is most of the cost
of an event otherwise). The strategies
of a flow's position (:func:`enabled_calls`, :func:`invalid_calls`,
:func:`disabled_calls`, :func:`batches`, :func:`timer_firings`) and of a
whole chart (:func:`tool_calls`) are there to write your own rules. After
every event the built-in invariants are checked (see :class:`FlowMachine`);
your own are added with :meth:`FlowMachine.flow_invariant`.
:func:`explore` runs the machine outside a test runner and reports what it
covered, which is how never-visited states are found.

Layout (each module opens with its own rules): :mod:`.values` (the value
pools and the value strategies), :mod:`.strategies` (events of a flow's
position or of a whole chart), :mod:`.walker` (one integer to one event),
:mod:`.observe` (state fingerprints and the snapshot round trip),
:mod:`.driver` (a cooperative model that finishes a flow), :mod:`.invariants`
(the built-in checks), :mod:`.machine` (the rule-based machine),
:mod:`.explore` (the machine class, runs outside a test runner, coverage).
"""

from __future__ import annotations

from taskchart.runtime.extras import missing_extra

try:
    import hypothesis  # noqa: F401  (every module of the package needs it)
except ModuleNotFoundError as exc:  # an optional dependency: say which extra brings it
    raise missing_extra(exc, "taskchart.runtime.testing") from exc

from .coverage import Coverage, Exploration
from .driver import drive_to_end
from .explore import EXAMPLES_ENV as EXAMPLES_ENV
from .explore import explore, flow_state_machine, walks
from .explore import forced_examples as forced_examples
from .invariants import REJECT_CODES as REJECT_CODES
from .invariants import ChartSource, FlowInvariant
from .machine import FlowMachine
from .observe import Observed as Observed
from .observe import check_roundtrip as check_roundtrip
from .strategies import (
    arguments_for,
    batches,
    disabled_calls,
    enabled_calls,
    invalid_calls,
    timer_firings,
    tool_calls,
)
from .values import HOSTILE_POOL as HOSTILE_POOL
from .values import HUGE_TASK_ID as HUGE_TASK_ID
from .values import KEYPAD as KEYPAD
from .values import VALUE_POOL as VALUE_POOL
from .values import ValueOverrides as ValueOverrides
from .values import field_values, invalid_values, repeated_arguments
from .walker import BURST as BURST
from .walker import CHOICE as CHOICE

__all__ = [
    "ChartSource",
    "Coverage",
    "Exploration",
    "FlowInvariant",
    "FlowMachine",
    "arguments_for",
    "batches",
    "disabled_calls",
    "drive_to_end",
    "enabled_calls",
    "explore",
    "field_values",
    "flow_state_machine",
    "invalid_calls",
    "invalid_values",
    "repeated_arguments",
    "timer_firings",
    "tool_calls",
    "walks",
]
