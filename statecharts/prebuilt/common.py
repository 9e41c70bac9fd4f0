"""What every prebuilt task shares: the confirmation policy, the tools, the read-back words."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from taskchart.statecharts.task import CONFIRM, DECLINE, UPDATE, Confirmation, Tool

__all__ = ["PLACEHOLDERS", "confirm_tool", "decline_tool", "policy", "readback", "update_tool"]

#: Values some models put in an argument they should have left out.
PLACEHOLDERS = frozenset(
    {"null", "none", "nil", "n/a", "na", "unknown", "unspecified", "undefined"}
)


def policy(require_confirmation: bool | None, *, always: bool = False) -> Confirmation:
    """LiveKit's rule: confirm in audio by default; ``True``/``False`` decide for both modalities.

    >>> policy(None), policy(True), policy(False)
    (<Confirmation.AUDIO_ONLY: 'audio_only'>, <Confirmation.ALWAYS: 'always'>, <Confirmation.NEVER: 'never'>)
    """
    if always or require_confirmation is True:
        return Confirmation.ALWAYS
    if require_confirmation is False:
        return Confirmation.NEVER
    return Confirmation.AUDIO_ONLY


def update_tool(name: str, description: str, arguments: dict[str, str], *required: str) -> Tool:
    return Tool(name, UPDATE, description, arguments, required)


def confirm_tool(name: str, description: str, arguments: dict[str, str] | None = None) -> Tool:
    arguments = arguments or {}
    return Tool(name, CONFIRM, description, arguments, tuple(arguments))


def decline_tool(name: str, what: str) -> Tool:
    return Tool(
        name,
        DECLINE,
        f"Handles the case when the user explicitly declines to provide {what}.",
        {"reason": "reason"},
        ("reason",),
    )


Readback = Callable[[Mapping[str, Any]], str]


def readback(
    field: str, what: str, confirm: str, spelled: str, plain: str
) -> Callable[[bool], Readback]:
    """LiveKit's tool output after an update of ``field``: the value, how to read it back
    (``spelled`` then the value one character at a time, or ``plain``), and not to call
    ``confirm`` directly; by whether the value is spelled out."""

    def words(spell: bool) -> Readback:
        def told(values: Mapping[str, Any]) -> str:
            value = values.get(field, "")
            how = f"{spelled}: {' '.join(value)}" if spell else plain
            return (
                f"The {what} has been updated to {value}\n{how}\n"
                f"Prompt the user for confirmation, do not call `{confirm}` directly"
            )

        return told

    return words
