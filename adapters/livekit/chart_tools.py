"""What the model sees of a chart task: its tools' schemas and its instructions.

Rules of this file: pure functions of a :class:`~taskchart.statecharts.TaskSpec`
and LiveKit values; nothing here runs the flow or holds state.

Theory of operation: each tool of a spec becomes a raw JSON schema whose
properties are its fields' own schemas (:meth:`Field.json_schema`), so the
model is told the shape the chart will check; a tool argument that is no
field (a decline's ``reason``) is a described string. A spec with
``confirm_heard`` (LiveKit's one-call confirmation of keypad digits) accepts
a confirmation only when the agent's last words before the caller's last
answer held the value (:func:`heard_read_back`).
"""

from __future__ import annotations

from typing import Any

from livekit.agents import llm
from livekit.agents.llm.chat_context import Instructions
from taskchart.statecharts import TaskSpec
from taskchart.statecharts.spoken import spoken_digits
from taskchart.statecharts.task import CONFIRM

__all__ = ["append_instructions", "heard_read_back", "tool_name", "tool_schema"]

_ARG_WORDS = {"reason": "A short explanation of why the user declined"}


def tool_schema(spec: TaskSpec, name: str) -> dict[str, Any]:
    """The raw schema LiveKit offers for the spec's tool ``name``."""
    spec_tool = spec.tool(name)
    assert spec_tool is not None
    properties: dict[str, Any] = {}
    for arg, target in spec_tool.arguments.items():
        field = spec.field_map.get(target)
        if field is not None:
            properties[arg] = field.json_schema()
            properties[arg].setdefault("description", target)
        else:
            properties[arg] = {"type": "string", "description": _ARG_WORDS.get(arg, target)}
    return {
        "name": name,
        "description": spec_tool.description or name.replace("_", " "),
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": list(spec_tool.required),
        },
    }


def heard_read_back(spec: TaskSpec, chat_ctx: llm.ChatContext, name: str, arguments: Any) -> bool:
    """Whether the agent's last words before the user's last answer held this value.

    Only for a spec with ``confirm_heard`` (LiveKit's one-call confirmation
    of keypad digits): the digits and keys of the confirmed value must
    appear, in order, in what the agent said (digits or words).
    """
    tool = spec.tool(name)
    if not spec.confirm_heard or tool is None or tool.event != CONFIRM:
        return False
    try:
        values = [
            spec.field_map[tool.arguments[arg]].clean(value) for arg, value in arguments.items()
        ]
    except Exception:  # the chart refuses the value itself, with its reason
        return False
    wanted = "".join("".join(str(v).split()) for v in values)
    answered = False
    for message in reversed(chat_ctx.messages()):
        if message.role == "user":
            answered = True
        elif message.role == "assistant" and answered:
            try:
                said = spoken_digits(message.text_content or "")
            except ValueError:  # no digits in it
                return False
            return bool(wanted) and wanted in said
    return False


def append_instructions(instructions: str | Instructions, extra: str) -> str | Instructions:
    """``instructions`` with ``extra`` appended (to both modalities of an ``Instructions``)."""
    if isinstance(instructions, Instructions):
        return Instructions(
            f"{instructions.common}\n{extra}".strip(),
            audio=instructions.audio,
            text=instructions.text,
            dynamic=instructions.dynamic,
        )
    return f"{instructions}\n{extra}".strip()


def tool_name(tool: llm.Tool) -> str:
    """The name a LiveKit tool is offered under."""
    info = getattr(tool, "info", None)
    return str(getattr(info, "name", ""))
