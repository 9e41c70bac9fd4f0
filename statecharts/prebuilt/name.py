"""``GetNameTask``'s chart: first, middle and last name as asked for, spelled back if wanted.

A part must contain letters (a card number or ZIP code put in a name argument
is refused); placeholders such as "null" are refused with a hint to leave the
part out. The result's parts are what the model gave (LiveKit's values);
its ``full_name`` is the name normalised: parts spelled letter by letter
("m i c h a e l") joined, capitalised, hyphens and apostrophes kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from taskchart.statecharts.fields import Field
from taskchart.statecharts.spoken import strip_filler
from taskchart.statecharts.task import TaskSpec, declarative_task

from .common import PLACEHOLDERS, confirm_tool, decline_tool, policy, update_tool

__all__ = ["AUDIO", "BASE", "TEXT", "GetNameResult", "as_collected", "name_spec", "normalize_name"]

PARTS = ("first_name", "middle_name", "last_name")


@dataclass
class GetNameResult:
    """The parts as given (LiveKit's values); ``full_name`` the normalised name in order."""

    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    full_name: str | None = field(default=None, compare=False, kw_only=True)


def normalize_name(text: str) -> str:
    """A clean name part.

    >>> normalize_name("michael m i c h a e l"), normalize_name("o'brien"), normalize_name("Mary-Jane")
    ('Michael', "O'Brien", 'Mary-Jane')
    """
    text = " ".join(strip_filler(text.strip().strip("'\"")).split())
    if text.casefold() in PLACEHOLDERS or not text:
        raise ValueError("that is not a name; leave the part out if the user has not said it")
    if len(text) > 100:
        raise ValueError("that is too long for a name")
    if not any(c.isalpha() for c in text):
        raise ValueError("that contains no letters - it doesn't look like a name")
    words = text.split()
    letters = [w for w in words if len(w) == 1 and w.isalpha()]
    if len(letters) >= 2 and len(letters) >= len(words) - 1:  # "michael m i c h a e l"
        text = "".join(letters)
    if text == text.lower() or text == text.upper():
        text = "-".join(_cap(p) for p in text.split("-"))
    return text


def as_collected(text: str) -> str:
    """The part as LiveKit keeps it (quotes and outer spaces removed), once it is a name.

    >>> as_collected(" 'ada' "), as_collected("michael m i c h a e l")
    ('ada', 'michael m i c h a e l')
    """
    normalize_name(text)  # raises ValueError saying what is wrong
    return text.strip().strip("'\"").strip()


def _cap(part: str) -> str:
    if "'" in part:  # o'brien -> O'Brien
        head, _, tail = part.partition("'")
        return f"{head.capitalize()}'{tail.capitalize()}"
    return " ".join(w.capitalize() for w in part.split())


def _result(collect: tuple[bool, bool, bool], name_format: str) -> Callable[..., GetNameResult]:
    def build(**values: Any) -> GetNameResult:
        parts = [
            values.get(p) if wanted else None for p, wanted in zip(PARTS, collect, strict=True)
        ]
        clean = {p: normalize_name(v) if v else "" for p, v in zip(PARTS, parts, strict=True)}
        return GetNameResult(*parts, full_name=" ".join(name_format.format(**clean).split()))

    return build


def _readback(name_format: str, spell: bool) -> Callable[[Mapping[str, Any]], str]:
    """LiveKit's tool output: the name, how to read it back, and not to confirm directly."""

    def readback(values: Mapping[str, Any]) -> str:
        full = name_format.format(**{p: values.get(p) or "" for p in PARTS}).strip()
        how = (
            f"Spell out the name letter by letter for verification: {' '.join(full.replace(' ', ''))}"
            if spell
            else "Repeat the name back to the user."
        )
        return (
            f"The name has been updated to {full}\n{how}\n"
            "Prompt the user for confirmation, do not call `confirm_name` directly"
        )

    return readback


BASE = """\
You are only a single step in a broader system, responsible solely for capturing the user's name.
You need to naturally collect the name parts in this order: {name_format}.
Call `update_name` at the first opportunity whenever you form a new hypothesis about the name (before asking any questions or providing any answers).
Don't invent names, stick strictly to what the user said. Leave out a part the user has not given.
If the user will not give their name, call `decline_name_capture`.
Ignore unrelated input. Do not generate markdown, greetings, or unnecessary commentary.
"""

AUDIO = """\
Handle input as noisy voice transcription. Users may spell their name ('Michael m i c h a e l') or use hyphens and apostrophes.
Call `confirm_name` only after the user said the name you read back is correct.
"""

TEXT = """\
Handle input as typed text. Preserve hyphens and apostrophes as typed.
"""


@lru_cache(maxsize=128)  # options a caller may vary per call: stay bounded
def name_spec(
    first_name: bool = True,
    last_name: bool = False,
    middle_name: bool = False,
    name_format: str | None = None,
    verify_spelling: bool = False,
    require_confirmation: bool | None = None,
) -> TaskSpec:
    """The name task collecting the parts flagged ``True``."""
    collect = (first_name, middle_name, last_name)
    if not any(collect):
        raise ValueError("At least one of first_name, middle_name, or last_name must be True")
    if name_format is None:
        name_format = " ".join(
            f"{{{p}}}" for p, wanted in zip(PARTS, collect, strict=True) if wanted
        )
    descriptions = (
        "The user's first name.",
        "The user's middle name, if collected.",
        "The user's last name, if collected.",
    )
    return declarative_task(
        "name",
        _result(collect, name_format),
        subject="name",
        description="Collects the user's name",
        fields=[
            Field(p, description=d, required=wanted, normalize=as_collected, pii=True)
            for p, d, wanted in zip(PARTS, descriptions, collect, strict=True)
        ],
        confirmation=policy(require_confirmation, always=verify_spelling),
        instructions=f"Ask the user for their name ({name_format}).",
        tools=[
            update_tool(
                "update_name", "Update the name provided by the user.", {p: p for p in PARTS}
            ),
            confirm_tool("confirm_name", "Call after the user confirms the name is correct."),
            decline_tool("decline_name_capture", "their name"),
        ],
        readback=_readback(name_format, verify_spelling),
        spelled_readback=_readback(name_format, True),
    )
