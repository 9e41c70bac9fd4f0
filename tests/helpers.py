"""Helpers several test modules share."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import structlog
from taskchart.adapters.console.interview import interview_chart
from taskchart.runtime import Interpreter, ToolCalled, UserSpoke
from taskchart.statecharts import Confirmation, Field, InputHandler, declarative_task

#: How an application may configure logging (see :func:`logs_captured`).
LOG_MODES = ("structlog-console", "structlog-json", "stdlib-debug")


@contextlib.contextmanager
def logs_captured(mode: str, logger: str = "") -> Iterator[Callable[[], str]]:
    """Logging configured as an application would, restored afterwards; yields the text so far.

    ``mode`` is one of :data:`LOG_MODES`; with ``stdlib-debug`` the stdlib
    ``logger`` (the root by default) is the one set to DEBUG and captured.
    """
    was_configured, saved = structlog.is_configured(), structlog.get_config()
    out = io.StringIO()
    stdlib = logging.getLogger(logger or None)
    handler = logging.StreamHandler(out)
    level = stdlib.level
    if mode == "stdlib-debug":
        structlog.reset_defaults()
        stdlib.addHandler(handler)
        stdlib.setLevel(logging.DEBUG)
    else:
        renderer: Any = (
            structlog.dev.ConsoleRenderer(colors=False)
            if mode == "structlog-console"
            else structlog.processors.JSONRenderer(default=repr)
        )
        structlog.configure(
            processors=[structlog.processors.add_log_level, renderer],
            logger_factory=structlog.PrintLoggerFactory(file=out),
            cache_logger_on_first_use=False,
        )
    try:
        yield out.getvalue
    finally:
        stdlib.removeHandler(handler)
        stdlib.setLevel(level)
        if was_configured:
            structlog.configure(**saved)
        else:
            structlog.reset_defaults()


@dataclass
class PersonName:
    name: str


@dataclass
class PersonAge:
    age: int


#: Two tasks with no-input timers: the name (re-prompted twice), then the age (once).
TIMER_TASKS = (
    declarative_task(
        "name_task",
        PersonName,
        fields=[Field("name")],
        confirmation=Confirmation.AUDIO_ONLY,
        no_input_timeout=5.0,
        max_reprompts=2,
        subject="name",
    ),
    declarative_task(
        "age_task",
        PersonAge,
        fields=[Field("age", int)],
        confirmation=Confirmation.NEVER,
        no_input_timeout=3.0,
        max_reprompts=1,
        subject="age",
    ),
)


#: A step's silence handling the input-handler tests share: 5 s, two escalating prompts.
SILENCE = InputHandler(
    timeout=5.0,
    prompts=["Sorry, I didn't hear you.", "Please say or key in your account number."],
    max_retries=2,
)


def recorded_interview() -> Interpreter:
    """A recorded interview run to its end, with one refused event on the way."""
    flow = Interpreter(interview_chart(), record=True)
    flow.start()
    for event in [
        ToolCalled("record_intro", {"name": "Ada Lovelace", "intro_notes": "a mathematician"}),
        ToolCalled("confirm_email_address", {}),  # refused: nothing to confirm yet
        ToolCalled("update_email_address", {"email": "ada@example.com"}),
        UserSpoke("yes", "audio"),
        ToolCalled("confirm_email_address", {}),
        ToolCalled("record_commute_flexibility", {"can_commute": "yes", "commute_method": "bike"}),
    ]:
        flow.handle(event)
    assert flow.done
    return flow
