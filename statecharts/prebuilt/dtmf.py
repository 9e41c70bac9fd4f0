"""``GetDtmfTask``'s chart: digits from keypad tones or spoken, a stop key, an inter-key timer.

Tones fill a key buffer (``dtmf`` events); the entry ends when ``num_digits``
keys arrived, at the stop key, or ``timeout`` seconds after the last key. Too
few keys fail the task, as in LiveKit, after ``max_retries`` re-prompts (none
by default). Spoken digits arrive through
``record_inputs`` (normalised with text2num) and must have ``num_digits``
keys too. With confirmation the digits are read back and ``confirm_inputs``
must repeat them; as in LiveKit, ``confirm_inputs`` alone also completes the
task once the conversation shows the digits were read back and answered.
Silence and unusable answers are handled only when asked for (``no_input``,
``no_match``: :class:`~taskchart.statecharts.InputHandler`); by default the
task waits, as LiveKit's does.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from taskchart.statecharts.fields import Field, shown
from taskchart.statecharts.spoken import spoken_digits
from taskchart.statecharts.task import (
    Confirmation,
    InputHandler,
    Keypad,
    TaskSpec,
    declarative_task,
)

from .common import confirm_tool, decline_tool, update_tool

__all__ = ["BASE", "DtmfEvent", "GetDtmfResult", "dtmf_spec", "keys_of"]


class DtmfEvent(enum.StrEnum):
    """A keypad key, as LiveKit names them."""

    ONE = "1"
    TWO = "2"
    THREE = "3"
    FOUR = "4"
    FIVE = "5"
    SIX = "6"
    SEVEN = "7"
    EIGHT = "8"
    NINE = "9"
    ZERO = "0"
    STAR = "*"
    POUND = "#"
    A = "A"
    B = "B"
    C = "C"
    D = "D"


KEYS = frozenset(e.value for e in DtmfEvent)


@dataclass
class GetDtmfResult:
    user_input: str


def keys_of(items: list[Any], num_digits: int, stop_key: str | None = "#") -> str:
    """Keys from tool input (keys, digit strings or spoken words), joined by single spaces.

    >>> keys_of(["four one five", "5", "five", "five", "oh", "one", "9", "9"], 10)
    '4 1 5 5 5 5 0 1 9 9'
    """
    words: list[str] = []
    for item in items:
        value = item.value if isinstance(item, DtmfEvent) else item
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            value = str(value)
        if not isinstance(value, str):
            raise ValueError(f"inputs must be keys or digits, got {shown(value, pii=True)}")
        words.append(value.strip())
    text = " ".join(words)
    compact = "".join(text.split()).replace("-", "").upper()
    plain = bool(compact) and all(c in KEYS for c in compact)
    keys = list(compact if plain else spoken_digits(text))
    while keys and stop_key and keys[-1] == stop_key:
        keys.pop()
    if len(keys) != num_digits:
        raise ValueError(
            f"Expected {num_digits} digits, got {len(keys)}; ask the user for the full "
            f"{num_digits} digits."
        )
    return " ".join(keys)


def _normalizer(num_digits: int, stop_key: str | None) -> Callable[[list[Any]], str]:
    return lambda items: keys_of(items, num_digits, stop_key)


def _readback(values: Mapping[str, Any]) -> str:
    digits = values.get("user_input", "")
    return (
        "User has entered the following digits:\n"
        f"<dtmf_inputs>{digits}</dtmf_inputs>\n"
        "Confirm them with the user by saying the digits one by one with space in between. "
        "Once the user confirms, call `confirm_inputs` with the inputs."
    )


BASE = """\
You are a single step in a broader system, responsible solely for gathering digits input from the user.
The user either types the digits on the keypad (they are collected for you) or says them to you.
"""

RECORD = "If the user says the digits, call `record_inputs` with them."
CONFIRM = (
    "Once user has confirmed the digits (by verbally spoken or entered manually), call "
    "`confirm_inputs` with the inputs. Read spoken digits back one by one first; you can "
    "also call `record_inputs` with them and the digits are read back for you."
)


@lru_cache(maxsize=128)  # options a caller may vary per call: stay bounded
def dtmf_spec(
    num_digits: int,
    ask_for_confirmation: bool = False,
    dtmf_input_timeout: float = 4.0,
    dtmf_stop_event: str | None = "#",
    max_retries: int = 0,
    no_input: InputHandler | None = None,
    no_match: InputHandler | None = None,
) -> TaskSpec:
    """The DTMF task for ``num_digits`` keys; a short entry is re-prompted ``max_retries``
    times; ``no_input``/``no_match`` (none by default) handle silence and unusable answers."""
    keypad = Keypad(num_digits, "user_input", dtmf_stop_event, dtmf_input_timeout, max_retries)
    key_schema = {"items": {"type": "string", "enum": [e.value for e in DtmfEvent]}}
    tools = [
        update_tool(
            "record_inputs",
            "Record the collected digit inputs without additional confirmation. Call this tool "
            "as soon as a valid sequence of digits has been provided by the user (spoken).",
            {"inputs": "user_input"},
            "inputs",
        )
    ]
    if ask_for_confirmation:
        tools.append(
            confirm_tool(
                "confirm_inputs",
                "Finalize the collected digit inputs after explicit user confirmation. Use this "
                "ONLY after the user confirmed the digits you read out one by one.",
                {"inputs": "user_input"},
            )
        )
    tools.append(decline_tool("decline_dtmf_capture", "the digits"))
    return declarative_task(
        "dtmf_inputs",
        GetDtmfResult,
        subject="digits",
        description=f"Collects {num_digits} digits from the keypad or spoken",
        fields=[
            Field(
                "user_input",
                list,
                description="The digits the user gave, one key per item",
                normalize=_normalizer(num_digits, dtmf_stop_event),
                pii=True,
                schema=key_schema,
            )
        ],
        confirmation=Confirmation.ALWAYS if ask_for_confirmation else Confirmation.NEVER,
        instructions=f"Ask the user for {num_digits} digits; they can type or say them.",
        tools=tools,
        readback=_readback,
        keypad=keypad,
        confirm_heard=ask_for_confirmation,  # LiveKit's one call, once the digits were heard
        no_input=no_input,
        no_match=no_match,
    )
