"""``GetEmailTask``'s chart: update, read back and confirm (audio), decline.

An address LiveKit accepts is kept as typed (LiveKit's value); spoken forms
("john dot doe at gmail dot com", "underscore", "dash", spelled letters),
which LiveKit refuses, are normalised. Every address is checked for syntax
with email-validator (no network deliverability check); the result's
``normalized`` is its normalised form (the domain in lower case).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from taskchart.statecharts.fields import Field
from taskchart.statecharts.spoken import normalize_spoken_email
from taskchart.statecharts.task import TaskSpec, declarative_task

from .common import confirm_tool, decline_tool, policy, readback, update_tool

__all__ = ["AUDIO", "BASE", "TEXT", "GetEmailResult", "as_collected", "email_spec"]


@dataclass
class GetEmailResult:
    """``email_address`` as LiveKit returns it; ``normalized`` its normalised form."""

    email_address: str
    normalized: str | None = field(default=None, compare=False, kw_only=True)


#: LiveKit's pattern: an address it takes as typed.
EMAIL_REGEX = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._%+\-]*@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$"
)


def as_collected(text: str) -> str:
    """The address as typed when LiveKit takes it so, else normalised from its spoken form.

    >>> as_collected("Ada.Lovelace@Example.com"), as_collected("ada at example dot com")
    ('Ada.Lovelace@Example.com', 'ada@example.com')
    """
    normalized = normalize_spoken_email(text)  # raises ValueError saying what is wrong
    typed = text.strip()
    return typed if EMAIL_REGEX.match(typed) else normalized


def _result(email_address: str) -> GetEmailResult:
    return GetEmailResult(email_address, normalized=normalize_spoken_email(email_address))


BASE = """\
You are only a single step in a broader system, responsible solely for capturing an email address.
Call `update_email_address` at the first opportunity whenever you form a new hypothesis about the email (before asking any questions or providing any answers).
Don't invent new email addresses, stick strictly to what the user said.
If the email is unclear or invalid, or it takes too much back-and-forth, prompt for it in parts: first the part before the '@', then the domain.
If the user will not give an email address, call `decline_email_capture`.
Ignore unrelated input. Do not generate markdown, greetings, or unnecessary commentary.
"""

AUDIO = """\
Handle input as noisy voice transcription. Users say emails aloud: pass what they said, \
spoken forms like 'john dot doe at gmail dot com' or spelled letters are normalised for you.
When the email is read back, the user must confirm it: call `confirm_email_address` only after they said it is correct.
"""

TEXT = """\
Handle input as typed text. Expect users to type their email address directly.
"""


_readback = readback(
    "email_address",
    "email",
    "confirm_email_address",
    "Repeat the email character by character",
    "Repeat the email back to the user.",
)


@cache
def email_spec(require_confirmation: bool | None = None, verify_spelling: bool = False) -> TaskSpec:
    """The email task; ``verify_spelling`` confirms (spelled out) in every modality."""
    return declarative_task(
        "email",
        _result,
        subject="email address",
        description="Collects the user's email address",
        fields=[
            Field(
                "email_address",
                description="The email address provided by the user",
                normalize=as_collected,
                pii=True,
            )
        ],
        confirmation=policy(require_confirmation, always=verify_spelling),
        instructions="Ask the user for their email address.",
        tools=[
            update_tool(
                "update_email_address",
                "Update the email address provided by the user.",
                {"email": "email_address"},
                "email",
            ),
            confirm_tool(
                "confirm_email_address",
                "Call after the user confirms the email address is correct.",
            ),
            decline_tool("decline_email_capture", "an email address"),
        ],
        readback=_readback(verify_spelling),
        spelled_readback=_readback(True),
    )
