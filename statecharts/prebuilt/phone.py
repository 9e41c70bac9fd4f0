"""``GetPhoneNumberTask``'s chart: a phone number, validated with phonenumbers.

The result's ``phone_number`` is the number as LiveKit keeps it: what the
user gave without separators ("4155550199", "+14155550199"); its E.164 form
is ``e164``. Numbers without a leading ``+`` are read in ``region`` (an ISO
country code, "US" by default); spoken digits ("four one five ...",
"plus four four ...") are normalised first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from taskchart.statecharts.fields import Field
from taskchart.statecharts.spoken import spoken_digits
from taskchart.statecharts.task import TaskSpec, declarative_task

from .common import confirm_tool, decline_tool, policy, readback, update_tool

__all__ = ["AUDIO", "BASE", "TEXT", "GetPhoneNumberResult", "as_collected", "e164", "phone_spec"]


@dataclass
class GetPhoneNumberResult:
    """``phone_number`` as collected (LiveKit's value); ``e164`` its E.164 form."""

    phone_number: str
    e164: str | None = field(default=None, compare=False, kw_only=True)


_PLUS = re.compile(r"^\s*(?:\+|plus\b)", re.IGNORECASE)
#: LiveKit's pattern for a number as collected, and the separators it removes first.
PHONE_REGEX = re.compile(r"^\+?[1-9]\d{6,14}$")
_SEPARATORS = re.compile(r"[\s\-().]+")


def e164(text: str, region: str = "US") -> str:
    """The number in E.164 form, or ``ValueError`` saying what is wrong.

    >>> e164("(415) 555-0132"), e164("plus four four two zero seven nine four six zero nine five eight")
    ('+14155550132', '+442079460958')
    """
    if len(text) > 100:
        raise ValueError("that is too long for a phone number")
    plus = bool(_PLUS.match(text))
    body = _PLUS.sub("", text, count=1)
    digits = spoken_digits(body)  # typed with separators or spoken
    if not digits.isdigit():
        raise ValueError("that is not a phone number; pass the digits only")
    import phonenumbers  # loaded on first use

    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, None if plus else region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"that is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(number):
        where = "" if plus else f" in region {region} (give the country code with + otherwise)"
        raise ValueError(f"that is not a valid phone number{where}; ask the user to repeat it")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def as_collected(text: str, region: str = "US") -> str:
    """The number as LiveKit keeps it (separators removed), once phonenumbers accepts it.

    Spoken digits, which LiveKit refuses, become digits.

    >>> as_collected("(415) 555-0132"), as_collected("plus four four two zero seven nine four six zero nine five eight")
    ('4155550132', '+442079460958')
    """
    e164(text, region)  # raises ValueError saying what is wrong
    cleaned = _SEPARATORS.sub("", text.strip())
    if PHONE_REGEX.match(cleaned):
        return cleaned
    plus = "+" if _PLUS.match(text) else ""
    return plus + spoken_digits(_PLUS.sub("", text, count=1))


def _normalizer(region: str) -> Callable[[str], str]:
    return lambda text: as_collected(text, region)


def _result(region: str) -> Callable[..., GetPhoneNumberResult]:
    def build(phone_number: str) -> GetPhoneNumberResult:
        return GetPhoneNumberResult(phone_number, e164=e164(phone_number, region))

    return build


_readback = readback(
    "phone_number",
    "phone number",
    "confirm_phone_number",
    "Read the number back digit by digit",
    "Read the number back to the user in groups.",
)


BASE = """\
You are only a single step in a broader system, responsible solely for capturing a phone number.
Call `update_phone_number` at the first opportunity whenever you form a new hypothesis about the phone number (before asking any questions or providing any answers).
Don't invent phone numbers, stick strictly to what the user said.
If the number is unclear or invalid, prompt for it in parts: first the area code, then the remaining digits.
Never repeat the phone number back as a single block of digits. Read it back in groups.
If the user will not give a phone number, call `decline_phone_number_capture`.
Ignore unrelated input. Do not generate markdown, greetings, or unnecessary commentary.
"""

AUDIO = """\
Handle input as noisy voice transcription; spoken digits ('five five five', 'oh', 'plus') are normalised for you.
Call `confirm_phone_number` only after the user said the number you read back is correct.
"""

TEXT = """\
Handle input as typed text. Expect users to type their phone number directly.
"""


@cache
def phone_spec(require_confirmation: bool | None = None, region: str = "US") -> TaskSpec:
    """The phone number task; numbers without ``+`` are read in ``region``."""
    import phonenumbers

    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {region!r}")
    return declarative_task(
        "phone_number",
        _result(region),
        subject="phone number",
        description="Collects the user's phone number",
        fields=[
            Field(
                "phone_number",
                description="The phone number provided by the user, digits only with optional leading +",
                normalize=_normalizer(region),
                pii=True,
            )
        ],
        confirmation=policy(require_confirmation),
        instructions="Ask the user for their phone number.",
        tools=[
            update_tool(
                "update_phone_number",
                "Update the phone number provided by the user.",
                {"phone_number": "phone_number"},
                "phone_number",
            ),
            confirm_tool(
                "confirm_phone_number", "Call after the user confirms the phone number is correct."
            ),
            decline_tool("decline_phone_number_capture", "a phone number"),
        ],
        readback=_readback(False),
        spelled_readback=_readback(True),
    )
