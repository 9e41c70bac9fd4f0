"""The variants ``dispatch.py`` times: one email-task cycle, driven four ways.

``A`` runs taskchart's Interpreter (with and without the spoken-email
normaliser, with default logging, on the python-statemachine engine), ``B``
raw python-statemachine ``send()``, ``C`` a hand-written dict FSM; see
``dispatch.py`` for what each is and how it is timed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import structlog
from taskchart.runtime.events import ToolCalled, UserSpoke
from taskchart.runtime.interpreter import Interpreter
from taskchart.runtime.logs import get_logger
from taskchart.statecharts import Chart, Confirmation, Field, compile_chart, declarative_task
from taskchart.statecharts.spoken import normalize_spoken_email

# The default-logging logger must be built before structlog is configured:
# it is exactly what ``get_logger`` returns in an application that never
# configured structlog (a lazy proxy over the stdlib logger, whose effective
# level is WARNING, so INFO records are dropped by ``filter_by_level``).
if structlog.is_configured():  # pragma: no cover
    raise RuntimeError("structlog was configured before the benchmark started")
DEFAULT_LOGGER = get_logger("taskchart.runtime")
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

SPOKEN_1 = "jane underscore smith at example dot com"
SPOKEN_2 = "john dot smith at example dot co dot uk"
CLEAN_1 = "jane_smith@example.com"
CLEAN_2 = "john.smith@example.co.uk"


# -- charts ------------------------------------------------------------------------
def email_chart(normalize: Callable[[Any], Any] | None) -> Chart:
    spec = declarative_task(
        "email",
        fields=[Field("email_address", normalize=normalize)],
        confirmation=Confirmation.ALWAYS,
    )
    return compile_chart(spec)


CHART_NORM = email_chart(normalize_spoken_email)
CHART_PLAIN = email_chart(None)

assert normalize_spoken_email(SPOKEN_1) == CLEAN_1
assert normalize_spoken_email(SPOKEN_2) == CLEAN_2

# Events are built once: the same event objects every cycle.
A_EVENTS_NORM = (
    ToolCalled("update_email", {"email_address": SPOKEN_1}),
    ToolCalled("update_email", {"email_address": SPOKEN_2}),
    UserSpoke("yes, that's right"),
    ToolCalled("confirm_email", {}),
)
A_EVENTS_PLAIN = (
    ToolCalled("update_email", {"email_address": CLEAN_1}),
    ToolCalled("update_email", {"email_address": CLEAN_2}),
    UserSpoke("yes, that's right"),
    ToolCalled("confirm_email", {}),
)


# -- C: the hand-written dict FSM ----------------------------------------------------
REQUIRED = ("email_address",)
NEEDS_CONFIRMATION = True  # Confirmation.ALWAYS
TABLE: dict[tuple[str, str], str] = {
    ("collecting", "update"): "confirming",  # guarded below; may stay in collecting
    ("confirming", "update"): "confirming",
    ("confirming", "confirm"): "complete",  # guarded below
    ("confirming", "correct"): "collecting",
    ("collecting", "decline"): "declined",
    ("confirming", "decline"): "declined",
}


class DictFSM:
    """The email task as a dict FSM; the same guards and actions as the chart."""

    __slots__ = ("readback_turn", "result", "signals", "state", "user_turn", "values")

    def __init__(self) -> None:
        self.state = "collecting"
        self.values: dict[str, Any] = {}
        self.user_turn = 0
        self.readback_turn: int | None = None
        self.result: Any = None
        self.signals: list[tuple[Any, ...]] = [("enter_task", "email", False)]

    def send(self, event: str, values: dict[str, Any] | None = None) -> str:
        state = self.state
        target = TABLE.get((state, event))
        if target is None:
            raise ValueError(f"{event} is not possible in {state}")
        if event == "update":
            if state == "collecting":
                have = self.values
                incoming = values or {}
                if not all(f in have or f in incoming for f in REQUIRED):
                    target = "collecting"  # internal: store only
                elif not NEEDS_CONFIRMATION:
                    target = "complete"
            if values:
                self.values.update(values)
            if target == "confirming":  # (re-)entering confirming reads back
                self.readback_turn = self.user_turn
                self.signals.append(("readback", "email"))
            elif target == "complete":
                self._complete()
        elif event == "confirm":
            rb = self.readback_turn
            if not ((self.user_turn if rb is None else rb) < self.user_turn):
                raise ValueError("guard value_unchanged_since_readback failed")
            self._complete()
        self.state = target
        return target

    def _complete(self) -> None:
        self.result = dict(self.values)
        self.signals.append(("task_done", "email", "complete"))
        self.signals.append(("flow_done", "done"))

    def user_spoke(self) -> None:
        self.user_turn += 1


# -- variants ------------------------------------------------------------------------
Variant = tuple[
    Callable[[], Any],
    Callable[[Any], list[Callable[[], Any]]],
    Callable[[Any, list[Any]], None],
]
# A variant is (make, bind, check): make() builds a fresh instance (timed as
# construction); bind(obj) returns four zero-argument callables, one per event
# (built untimed); check(obj, results) verifies the cycle ended as expected.


def _runtime_variant(
    chart: Chart, events: tuple[Any, ...], logger: Any = None, engine: str = "table"
) -> Variant:
    if logger is None:

        def make() -> Interpreter:
            flow = Interpreter(chart, engine=engine)
            flow.start()
            return flow

    else:

        def make() -> Interpreter:
            flow = Interpreter(chart, logger=logger)
            flow.start()
            return flow

    def bind(flow: Interpreter) -> list[Callable[[], Any]]:
        return [functools.partial(flow.handle, e) for e in events]

    def check(flow: Interpreter, results: list[Any]) -> None:
        bad = [r for r in results if not r.ok]
        if bad or not flow.done or flow.result != {"email_address": CLEAN_2}:
            raise AssertionError(f"runtime cycle went wrong: {bad} {flow.configuration}")

    return make, bind, check


def _bump(model: Any) -> None:
    model.user_turn += 1


def _raw_variant(chart: Chart) -> Variant:
    v1 = {"email_address": CLEAN_1}
    v2 = {"email_address": CLEAN_2}

    def make() -> Any:
        return chart.new_machine(engine="statemachine").inner

    def bind(m: Any) -> list[Callable[[], Any]]:
        send = m.send
        return [
            functools.partial(send, "update", values=v1),
            functools.partial(send, "update", values=v2),
            functools.partial(_bump, m.model),
            functools.partial(send, "confirm"),
        ]

    def check(m: Any, results: list[Any]) -> None:
        if not m.is_terminated or m.model.results.get("email") != {"email_address": CLEAN_2}:
            raise AssertionError(f"raw cycle went wrong: {list(m.configuration_values)}")

    return make, bind, check


def _dict_variant() -> Variant:
    v1 = {"email_address": CLEAN_1}
    v2 = {"email_address": CLEAN_2}

    def bind(f: DictFSM) -> list[Callable[[], Any]]:
        send = f.send
        return [
            functools.partial(send, "update", v1),
            functools.partial(send, "update", v2),
            f.user_spoke,
            functools.partial(send, "confirm"),
        ]

    def check(f: DictFSM, results: list[Any]) -> None:
        if f.state != "complete" or f.result != {"email_address": CLEAN_2}:
            raise AssertionError(f"dict cycle went wrong: {f.state}")

    return DictFSM, bind, check


VARIANTS: dict[str, tuple[str, Variant]] = {
    "A": ("runtime, spoken-email normaliser", _runtime_variant(CHART_NORM, A_EVENTS_NORM)),
    "A0": ("runtime, no normaliser", _runtime_variant(CHART_PLAIN, A_EVENTS_PLAIN)),
    "A-log": (
        "runtime, normaliser, default logging",
        _runtime_variant(CHART_NORM, A_EVENTS_NORM, DEFAULT_LOGGER),
    ),
    "A-sm": (
        "runtime, no normaliser, statemachine engine",
        _runtime_variant(CHART_PLAIN, A_EVENTS_PLAIN, engine="statemachine"),
    ),
    "B": ("raw python-statemachine send()", _raw_variant(CHART_PLAIN)),
    "C": ("hand-written dict FSM", _dict_variant()),
}
