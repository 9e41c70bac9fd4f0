"""The interview flow of the LiveKit TaskGroup documentation, as declarative charts.

Three tasks in order: ``intro_task`` (name and introduction), ``email_task``
(read back and confirmed) and ``commute_task`` (can commute, and how).

>>> chart = interview_chart()
>>> [t.id for t in chart.tasks]
['intro_task', 'email_task', 'commute_task']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from taskchart.statecharts import (
    Chart,
    Confirmation,
    Field,
    TaskSpec,
    Tool,
    compile_chart,
    declarative_task,
)
from taskchart.statecharts.spoken import normalize_spoken_email
from taskchart.statecharts.task import CONFIRM, CORRECT, DECLINE, UPDATE

__all__ = ["CommuteResults", "EmailResult", "IntroResults", "interview_chart", "interview_tasks"]


@dataclass
class IntroResults:
    name: str
    intro: str


@dataclass
class EmailResult:
    email_address: str


@dataclass
class CommuteResults:
    can_commute: bool
    commute_method: str


def _one_tool_task(
    id: str,
    result: Callable[..., Any],
    tool: str,
    tool_description: str,
    arguments: dict[str, Field],
    *,
    subject: str,
    description: str,
    instructions: str,
) -> TaskSpec:
    """One of the documentation's hand-written tasks as a chart: its one tool gives every
    field at once (``arguments``: argument name -> field), and nothing is read back."""
    return declarative_task(
        id,
        result,
        fields=list(arguments.values()),
        confirmation=Confirmation.NEVER,
        subject=subject,
        description=description,
        instructions=instructions,
        tools=[Tool(tool, UPDATE, tool_description, {a: f.name for a, f in arguments.items()})],
    )


def interview_tasks() -> tuple[TaskSpec, ...]:
    """The three task specs, in order (new objects on every call)."""
    intro = _one_tool_task(
        "intro_task",
        IntroResults,
        "record_intro",
        "Record the candidate's name and introduction",
        {
            "name": Field("name", description="the candidate's name"),
            "intro_notes": Field("intro", description="notes from the candidate's introduction"),
        },
        subject="name and introduction",
        description="Collects name and introduction",
        instructions="Welcome the candidate and collect their name and introduction.",
    )
    email = declarative_task(
        "email_task",
        EmailResult,
        fields=[
            Field("email_address", normalize=normalize_spoken_email, pii=True),
        ],
        confirmation=Confirmation.ALWAYS,
        subject="email address",
        description="Collects the candidate's email address",
        instructions="Ask for the candidate's email address.",
        tools=[
            Tool(
                "update_email_address",
                UPDATE,
                "Record the email address the user gave",
                {"email": "email_address"},
                ("email",),
            ),
            Tool("confirm_email_address", CONFIRM, "The user confirmed the email read back"),
            Tool("correct_email_address", CORRECT, "The user said the read-back email is wrong"),
            Tool(
                "decline_email_capture",
                DECLINE,
                "The user will not give an email address",
                {"reason": "reason"},
            ),
        ],
    )
    commute = _one_tool_task(
        "commute_task",
        CommuteResults,
        "record_commute_flexibility",
        "Record commute flexibility and transportation method",
        {
            "can_commute": Field(
                "can_commute", bool, description="whether the candidate can commute"
            ),
            "commute_method": Field(
                "commute_method", description="how the candidate would commute"
            ),
        },
        subject="commute flexibility",
        description="Asks about commute flexibility",
        instructions="Ask about the candidate's ability to commute to the office, and how.",
    )
    return (intro, email, commute)


_TASKS = interview_tasks()


def interview_chart() -> Chart:
    """The compiled interview chart (built once, then cached)."""
    return compile_chart(_TASKS, name="InterviewFlow")
