"""The credit card tasks' charts: card number, expiration date, security code.

Card data is never read back: each value is confirmed by repetition (the
``confirm_*`` tool takes the value again and it must match). The number must
pass the Luhn check and have a length its issuer uses; the security code has
the issuer's length (4 for American Express, else 3); an expired date is
refused. Every field is marked ``pii``, so logs show ``[redacted]``; no tool
output or instruction ever contains the values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from taskchart.statecharts.fields import Field
from taskchart.statecharts.model import StartOver
from taskchart.statecharts.spoken import spoken_digits
from taskchart.statecharts.task import FAIL, TaskSpec, Tool, declarative_task

from .common import confirm_tool, decline_tool, policy, update_tool

__all__ = [
    "CARD_ISSUERS",
    "CARD_MARK",
    "CODE_MARK",
    "GetCardNumberResult",
    "GetCreditCardResult",
    "GetExpirationDateResult",
    "GetSecurityCodeResult",
    "card_issuer",
    "card_number_spec",
    "expiration_date_spec",
    "luhn_ok",
    "redact_card_data",
    "security_code_spec",
]


@dataclass
class GetCreditCardResult:
    cardholder_name: str
    issuer: str
    card_number: str
    security_code: str
    expiration_date: str


@dataclass
class GetCardNumberResult:
    issuer: str
    card_number: str


@dataclass
class GetSecurityCodeResult:
    security_code: str


@dataclass
class GetExpirationDateResult:
    date: str


#: issuer -> (number prefixes as ranges of the first digits, lengths)
CARD_ISSUERS: dict[str, tuple[tuple[tuple[int, int], ...], tuple[int, ...]]] = {
    "American Express": (((34, 34), (37, 37)), (15,)),
    "Visa": (((4, 4),), (13, 16, 19)),
    "Mastercard": (((51, 55), (2221, 2720)), (16,)),
    "Discover": (((6011, 6011), (644, 649), (65, 65)), (16, 17, 18, 19)),
    "Diners Club": (((300, 305), (36, 36), (38, 39)), (14, 15, 16, 17, 18, 19)),
    "JCB": (((3528, 3589),), (16, 17, 18, 19)),
    "UnionPay": (((62, 62),), (16, 17, 18, 19)),
}


def luhn_ok(number: str) -> bool:
    """The Luhn checksum of a digit string.

    >>> luhn_ok("4111111111111111"), luhn_ok("4111111111111112")
    (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_issuer(number: str) -> str:
    """The issuer whose prefixes match ``number``, or ``"Other"``.

    >>> card_issuer("378282246310005"), card_issuer("5555555555554444"), card_issuer("9")
    ('American Express', 'Mastercard', 'Other')
    """
    for issuer, (prefixes, _) in CARD_ISSUERS.items():
        for low, high in prefixes:
            width = len(str(low))
            if len(number) >= width and low <= int(number[:width]) <= high:
                return issuer
    return "Other"


def _digits(text: str, what: str) -> str:
    """Digits typed with any separators, or spoken (``spoken_digits`` reads both)."""
    try:
        return spoken_digits(text)
    except ValueError:
        raise ValueError(f"the {what} must be digits; ask the user to repeat it") from None


def normalize_card_number(text: str) -> str:
    """Digits only; Luhn-valid and of a length the issuer uses (no digits in the message)."""
    number = _digits(text, "card number")
    if not 13 <= len(number) <= 19:
        raise ValueError(
            f"The card number has {len(number)} digits; a card number has 13 to 19. "
            "Ask the user to repeat their card number."
        )
    if not luhn_ok(number):
        raise ValueError(
            "The card number is not valid (its check digit does not match); ask the user if "
            "they made a mistake or to provide another card."
        )
    issuer = card_issuer(number)
    lengths = CARD_ISSUERS.get(issuer, ((), tuple(range(13, 20))))[1]
    if len(number) not in lengths:
        raise ValueError(
            f"A {issuer} card number has {' or '.join(map(str, lengths))} digits, this one has "
            f"{len(number)}. Ask the user to repeat their card number."
        )
    return number


def _card_number_result(**values: Any) -> GetCardNumberResult:
    number = values["card_number"]
    return GetCardNumberResult(issuer=card_issuer(number), card_number=number)


def _ask_repeat(what: str, tool: str) -> Callable[[Mapping[str, Any]], str]:
    def readback(values: Mapping[str, Any]) -> str:
        return (
            f"The {what} has been updated.\n"
            f"Do not repeat the {what} back to the user, ask them to repeat it.\n"
            f"Call `{tool}` with what they repeat, do not call it preemptively."
        )

    return readback


#: LiveKit's words for each card detail: the task's description, its instructions, its update tool's.
_WORDS: dict[str, tuple[str, str, str]] = {
    "card_number": (
        "Collects the user's card number",
        "Get the user's credit card number.",
        "Call to record the user's card number. Only call once the entire number has "
        "been given, do not call in increments.",
    ),
    "security_code": (
        "Collects the card's security code",
        "Get the user's card security code.",
        "Call to update the card's security code.",
    ),
    "expiration_date": (
        "Collects the card's expiration date",
        "Get the user's card expiration date.",
        "Call to update the card's expiration date. Collect both the numerical month and year.",
    ),
}


def _card_detail(
    id: str,
    result: Callable[..., Any],
    fields: list[Field],
    require_confirmation: bool | None,
    validate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> TaskSpec:
    """A card detail as LiveKit collects it: ``update_<id>`` records every field, the user
    repeats them to ``confirm_<id>`` (they are never read back), and the card's own tools
    decline or start the card over."""
    description, instructions, update = _WORDS[id]
    subject = id.replace("_", " ")
    names = [f.name for f in fields]
    confirm = f"confirm_{id}"
    return declarative_task(
        id,
        result,
        subject=subject,
        description=description,
        fields=fields,
        confirmation=policy(require_confirmation),
        instructions=instructions,
        tools=[
            update_tool(f"update_{id}", update, {n: n for n in names}, *names),
            confirm_tool(
                confirm,
                f"Call after the user repeats their {subject} for confirmation.",
                {f"repeated_{n}": n for n in names},
            ),
            decline_tool("decline_card_capture", "a detail of their card information"),
            Tool(
                "restart_card_collection",
                FAIL,
                "Handles the case when the user wishes to start over the card information "
                "collection process and validate a new card.",
                {"reason": "reason"},
                ("reason",),
                failure=StartOver,
            ),
        ],
        validate=validate,
        readback=_ask_repeat(subject, confirm),
    )


@cache
def card_number_spec(require_confirmation: bool | None = None) -> TaskSpec:
    """The card number; confirmed by repetition in audio (or as ``require_confirmation`` says)."""
    field = Field(
        "card_number",
        description="The credit card number as a string with no dashes or spaces",
        normalize=normalize_card_number,
        pii=True,
    )
    return _card_detail("card_number", _card_number_result, [field], require_confirmation)


def _code_normalizer(length: int | None) -> Callable[[str], str]:
    def normalize(text: str) -> str:
        code = _digits(text, "security code")
        allowed = (length,) if length else (3, 4)
        if len(code) not in allowed:
            need = " or ".join(map(str, allowed))
            raise ValueError(
                f"The security code must have {need} digits; ask the user to repeat it."
            )
        return code

    return normalize


@cache
def security_code_spec(require_confirmation: bool | None = None, issuer: str = "") -> TaskSpec:
    """The security code: 4 digits for American Express, 3 for other known issuers."""
    length = 4 if issuer == "American Express" else (3 if issuer in CARD_ISSUERS else None)
    field = Field(
        "security_code",
        description="The card's security code (3-4 digits, may have leading zeros)",
        normalize=_code_normalizer(length),
        pii=True,
    )
    return _card_detail("security_code", GetSecurityCodeResult, [field], require_confirmation)


def _month(value: int) -> int:
    if not 1 <= value <= 12:
        raise ValueError("The expiration month is invalid, ask the user to repeat it.")
    return value


def _year(value: int) -> int:
    if 2000 <= value <= 2099:
        value -= 2000
    if not 0 <= value <= 99:
        raise ValueError("The expiration year is invalid, ask the user to repeat it.")
    return value


def check_expiry(values: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """Refuse a card that expired before this month."""
    month, year = values.get("expiration_month"), values.get("expiration_year")
    if month is not None and year is not None:
        today = today or date.today()
        if (2000 + year, month) < (today.year, today.month):
            raise ValueError(
                "The expiration date is in the past, the card is expired. "
                "Ask the user to provide another card."
            )
    return values


def _expiry_result(**values: Any) -> GetExpirationDateResult:
    return GetExpirationDateResult(
        date=f"{values['expiration_month']:02d}/{values['expiration_year']:02d}"
    )


@cache
def expiration_date_spec(require_confirmation: bool | None = None) -> TaskSpec:
    """The expiration date ("MM/YY"), not in the past."""
    month = Field(
        "expiration_month",
        int,
        description="The numerical expiration month of the card, example: '04' for April",
        normalize=_month,
        pii=True,
    )
    year = Field(
        "expiration_year",
        int,
        description="The numerical expiration year of the card shortened to the last two "
        "digits, for example, '35' for 2035",
        normalize=_year,
        pii=True,
    )
    return _card_detail(
        "expiration_date", _expiry_result, [month, year], require_confirmation, check_expiry
    )


# -- card data out of the conversation ------------------------------------------------

#: What a card number and a security code become in a conversation handed back.
CARD_MARK, CODE_MARK = "[card]", "[security code]"
_DIGIT_WORDS = (
    "zero|oh|o|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen"
    "|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty"
    "|seventy|eighty|ninety|hundred|thousand|double|triple"
)
_NUMBER_TOKEN = rf"(?:\d|\b(?:{_DIGIT_WORDS})\b)"
#: A run of digits, typed or spoken, with spaces, dashes, dots, commas or slashes between.
_NUMBER_RUN = re.compile(rf"{_NUMBER_TOKEN}(?:[\s\-.,/()]*{_NUMBER_TOKEN})*", re.IGNORECASE)
#: Digits shared with a card number that give it away (a quarter of one is said in a breath).
_CARD_PIECE = 4


def redact_card_data(text: str, numbers: Collection[str], codes: Collection[str] = ()) -> str:
    """``text`` with every run of digits that gives away a card number or a code replaced.

    A run is digits typed or spoken ("four one one one"), with any separators
    between them. It is replaced by ``[card]`` when it shares four digits in a
    row with one of ``numbers`` (the whole number, either half, a group of
    four) or is itself a card number (13 to 19 digits that pass Luhn for a
    known issuer), and by ``[security code]`` when it contains one of ``codes``.

    >>> redact_card_data("it's 4111-1111 1111 1111, code one two three", ["4111111111111111"], ["123"])
    "it's [card], code [security code]"
    >>> redact_card_data("the first half is four one one one one one one one", ["4111111111111111"])
    'the first half is [card]'
    """
    pieces = {n[i : i + _CARD_PIECE] for n in numbers for i in range(len(n) - _CARD_PIECE + 1)}
    short = [c for c in codes if c]

    def mark(match: re.Match[str]) -> str:
        try:
            digits = spoken_digits(match.group())
        except (ValueError, ArithmeticError):  # "double" alone: no digits
            return match.group()
        digits = "".join(filter(str.isdigit, digits))
        windows = {digits[i : i + _CARD_PIECE] for i in range(len(digits) - _CARD_PIECE + 1)}
        if windows & pieces or _is_card_number(digits):
            return CARD_MARK
        if any(code in digits for code in short):
            return CODE_MARK
        return match.group()

    return _NUMBER_RUN.sub(mark, text)


def _is_card_number(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and luhn_ok(digits) and card_issuer(digits) != "Other"


BASE = """\
You are a single step in a broader process of collecting credit card information.
You are solely responsible for collecting the {what}.
If the user refuses to provide it, call decline_card_capture().
If the user wishes to start over the card collection process, call restart_card_collection().
Avoid listing out questions with bullet points or numbers, use a natural conversational tone.
Never repeat any sensitive information, such as the user's {what}, back to the user.
"""

AUDIO = """\
Handle input as noisy voice transcription; spoken digits ('four', 'oh') are normalised for you.
Confirm by asking the user to repeat it, then call the confirm tool with what they repeated.
"""

TEXT = """\
Handle input as typed text; spaces and dashes are fine.
"""
