"""``GetDOBTask``'s chart: a date of birth (and, optionally, a time of birth).

Two-digit years are read as the most recent past year (90 -> 1990, 5 ->
2005); impossible and future dates are refused with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, time
from functools import cache
from typing import Any

from taskchart.statecharts.fields import Field
from taskchart.statecharts.task import TaskSpec, declarative_task

from .common import confirm_tool, decline_tool, policy, update_tool

__all__ = ["AUDIO", "BASE", "TEXT", "GetDOBResult", "check_dob", "dob_spec", "full_year"]


@dataclass
class GetDOBResult:
    date_of_birth: date
    time_of_birth: time | None = None


def full_year(year: int, today: date | None = None) -> int:
    """A two-digit year as the latest year not after this one.

    >>> full_year(90, date(2026, 1, 1)), full_year(5, date(2026, 1, 1)), full_year(1984)
    (1990, 2005, 1984)
    """
    if 0 <= year < 100:
        current = (today or date.today()).year % 100
        year += 2000 if year <= current else 1900
    return year


def check_dob(values: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """Turn year, month, day (and hour, minute) into a real, past date; ``ValueError`` otherwise."""
    today = today or date.today()
    if all(k in values for k in ("year", "month", "day")):
        year = full_year(values["year"], today)
        try:
            born = date(year, values["month"], values["day"])
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"Invalid date: {exc}") from None
        if born > today:
            raise ValueError(
                "Invalid date of birth: it is in the future. Date of birth cannot be a future date."
            )
        if year < today.year - 130:
            raise ValueError("Invalid date of birth: the year is too long ago; ask the user again.")
        values = {**values, "year": year}
    if "hour" in values or "minute" in values:
        try:
            time(values.get("hour", 0), values.get("minute", 0))
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"Invalid time: {exc}") from None
    return values


def _result(**values: Any) -> GetDOBResult:
    born = date(values["year"], values["month"], values["day"])
    hour, minute = values.get("hour"), values.get("minute")
    at = time(hour, minute or 0) if hour is not None else None
    return GetDOBResult(date_of_birth=born, time_of_birth=at)


def _readback(spell: bool) -> Callable[[Mapping[str, Any]], str]:
    """LiveKit's tool output: the date, how to read it back, and not to confirm directly."""

    def readback(values: Mapping[str, Any]) -> str:
        if not all(k in values for k in ("year", "month", "day")):
            return "Ask the user for their date of birth."
        born = date(values["year"], values["month"], values["day"])
        text = f"The date of birth has been updated to {born.strftime('%B %d, %Y')}"
        if values.get("hour") is not None:
            text += f" at {time(values['hour'], values.get('minute') or 0).strftime('%I:%M %p')}"
        how = (
            "Repeat the date back one part at a time, the month, the day, then the year: "
            f"{born.strftime('%B')}, {born.day}, {born.year}"
            if spell
            else "Repeat the date back to the user in a natural spoken format."
        )
        return (
            f"{text}\n{how}\nPrompt the user for confirmation, do not call `confirm_dob` directly"
        )

    return readback


BASE = """\
You are only a single step in a broader system, responsible solely for capturing a date of birth.
{time_instructions}Call `update_dob` at the first opportunity whenever you form a new hypothesis about the date of birth (before asking any questions or providing any answers).
Don't invent dates, stick strictly to what the user said.
When reading back dates, use a natural spoken format like 'January fifteenth, nineteen ninety'.
If the date is unclear or invalid, prompt for it in parts: first the month, then the day, then the year.
If the user will not give their date of birth, call `decline_dob_capture`.
Ignore unrelated input. Do not generate markdown, greetings, or unnecessary commentary.
"""

TIME_INSTRUCTIONS = (
    "Also ask for and capture the time of birth with `update_time` if the user knows it. "
    "The time is optional - if the user doesn't know it, proceed without it.\n"
)

AUDIO = """\
Handle input as noisy voice transcription: 'the fifteenth of January nineteen ninety' is year 1990, month 1, day 15. Two-digit years are fine ('90').
Call `confirm_dob` only after the user said the date you read back is correct.
"""

TEXT = """\
Handle input as typed text: 'MM/DD/YYYY', 'January 15, 1990' or '1990-01-15'. Two-digit years are fine ('90').
"""


def _int_field(name: str, description: str, required: bool = True) -> Field:
    return Field(name, int, description=description, required=required, pii=True)


@cache
def dob_spec(require_confirmation: bool | None = None, include_time: bool = False) -> TaskSpec:
    """The date-of-birth task; ``include_time`` adds ``update_time(hour, minute)``."""
    fields = [
        _int_field("year", "The birth year (e.g., 1990)"),
        _int_field("month", "The birth month (1-12)"),
        _int_field("day", "The birth day (1-31)"),
    ]
    tools = [
        update_tool(
            "update_dob",
            "Update the date of birth provided by the user. Given a spoken month and year "
            "(e.g., 'July 2030'), return its numerical representation (7/2030).",
            {"year": "year", "month": "month", "day": "day"},
            "year",
            "month",
            "day",
        )
    ]
    if include_time:
        fields += [
            _int_field("hour", "The birth hour (0-23)", required=False),
            _int_field("minute", "The birth minute (0-59)", required=False),
        ]
        tools.append(
            update_tool(
                "update_time",
                "Update the time of birth provided by the user.",
                {"hour": "hour", "minute": "minute"},
                "hour",
                "minute",
            )
        )
    tools += [
        confirm_tool("confirm_dob", "Call after the user confirms the date of birth is correct."),
        decline_tool("decline_dob_capture", "a date of birth"),
    ]
    check: Callable[[dict[str, Any]], dict[str, Any]] = check_dob
    return declarative_task(
        "dob",
        _result,
        subject="date of birth",
        description="Collects the user's date of birth",
        fields=fields,
        confirmation=policy(require_confirmation),
        instructions="Ask the user to provide their date of birth.",
        tools=tools,
        validate=check,
        readback=_readback(False),
        spelled_readback=_readback(True),
    )
