"""What every prebuilt task shares: the confirmation policy and the decline tool."""

from __future__ import annotations

from taskchart.statecharts.task import CONFIRM, DECLINE, UPDATE, Confirmation, Tool

__all__ = ["PLACEHOLDERS", "confirm_tool", "decline_tool", "policy", "update_tool"]

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
