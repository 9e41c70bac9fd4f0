"""The script of a :class:`~taskchart.adapters.livekit.testing.ScriptedLLM`: steps and requests.

Rules of this file: a step is text, a :class:`Call`, a list of them (one
turn), a :class:`Summary`, or a callable of the :class:`Request` returning
a reply; anything else is a :class:`ScriptError`, raised when the script is
written or when the step is used, never silently sent.

Theory of operation: every LLM request the session sends is recorded as a
:class:`Request` (a copy of the chat context, the offered tools' names and
schemas), which is what error messages describe and what a callable step
reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeAlias

from livekit.agents import NOT_GIVEN, NotGivenOr, llm

__all__ = [
    "SUMMARY_PROMPT",
    "Call",
    "Reply",
    "Request",
    "ScriptError",
    "Step",
    "Summary",
    "default_summary",
]

SUMMARY_PROMPT = "Compress older conversation history"
"""How LiveKit's summarization request (``ChatContext._summarize``) begins."""

_USER_TURN = re.compile(r"<user>\n(.*?)\n</user>", re.DOTALL)


class ScriptError(AssertionError):
    """The scripted LLM got a request its script cannot answer as written."""


class Call:
    """A scripted tool call: ``Call("record_intro", name="Ana")`` or ``Call("f", {"x": 1})``.

    ``name`` and ``args`` are positional-only, so tool parameters may be called
    ``name`` too. A ``str`` in place of the mapping is sent verbatim as the
    arguments JSON (to test malformed arguments). The call id is generated per
    request unless :meth:`with_call_id` fixes it (to test repeated ids, as a
    provider sends when LiveKit retries a stream).
    """

    __slots__ = ("args", "arguments", "call_id", "name")

    def __init__(
        self, name: str, args: Mapping[str, Any] | str | None = None, /, **kwargs: Any
    ) -> None:
        self.name = name
        if isinstance(args, str):
            if kwargs:
                raise TypeError("Call() takes raw JSON arguments or keyword arguments, not both")
            self.args: dict[str, Any] = {}
            self.arguments = args
        else:
            self.args = {**(args or {}), **kwargs}
            self.arguments = json.dumps(self.args)
        self.call_id: str | None = None

    def with_call_id(self, call_id: str) -> Call:
        """This call, sent with the id ``call_id`` instead of a generated one."""
        call = Call(self.name, self.arguments)
        call.args = self.args
        call.call_id = call_id
        return call

    def __repr__(self) -> str:
        suffix = "" if self.call_id is None else f".with_call_id({self.call_id!r})"
        return f"Call({self.name!r}, {self.arguments}){suffix}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Call):
            return NotImplemented
        return (self.name, self.arguments, self.call_id) == (
            other.name,
            other.arguments,
            other.call_id,
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Summary:
    """A script step that answers the next summarization request with ``text``."""

    text: str


Reply: TypeAlias = str | Call | list[str | Call]
"""Text, one tool call, or several items sent in one turn."""

Step: TypeAlias = Reply | Summary | Callable[["Request"], Reply]
"""A reply, an explicit :class:`Summary`, or a callable computing the reply."""


@dataclass
class Request:
    """One LLM request as the session sent it (``chat_ctx`` is a copy)."""

    index: int
    chat_ctx: llm.ChatContext
    tools: list[str]
    tool_choice: NotGivenOr[llm.ToolChoice]
    is_summary: bool
    parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN
    function_tools: list[llm.FunctionTool[..., Any] | llm.RawFunctionTool[..., Any]] = field(
        default_factory=list, repr=False
    )

    @cached_property
    def schemas(self) -> list[dict[str, Any]]:
        """OpenAI-format schemas of the offered tools (built on first use: a few ms each)."""
        if not self.function_tools:
            return []
        return llm.ToolContext(self.function_tools).parse_function_tools("openai")

    def schema(self, name: str) -> dict[str, Any]:
        """The OpenAI-format schema of the offered tool ``name``."""
        for schema in self.schemas:
            if schema["function"]["name"] == name:
                return schema
        raise KeyError(f"tool {name!r} was not offered; offered tools: {self.tools}")

    @property
    def instructions(self) -> str:
        """The system and developer messages, joined by newlines."""
        return "\n".join(
            m.text_content or ""
            for m in self.chat_ctx.messages()
            if m.role in ("system", "developer")
        )

    @property
    def user_text(self) -> str | None:
        """The text of the last user message, if any."""
        for message in reversed(self.chat_ctx.messages()):
            if message.role == "user":
                return message.text_content
        return None

    def describe(self) -> str:
        """A one-line description for error messages."""
        instructions = " ".join(self.instructions.split())
        if len(instructions) > 80:
            instructions = instructions[:77] + "..."
        errors = "".join(f"; the session answered {e}" for e in self.tool_errors)
        return (
            f"LLM request #{self.index} offered tools {self.tools}; "
            f"last user message {self.user_text!r}; instructions {instructions!r}{errors}"
        )

    @property
    def tool_errors(self) -> list[str]:
        """The tool errors the session returned since the last user message, as
        ``name: output`` (a misspelled argument shows here)."""
        errors: list[str] = []
        for item in self.chat_ctx.items:
            if item.type == "message" and item.role == "user":
                errors.clear()
            elif item.type == "function_call_output" and item.is_error:
                output = " ".join(str(item.output).split())
                errors.append(f"{item.name}: {output[:300]}")
        return errors


def default_summary(request: Request) -> str:
    """A deterministic summary quoting what the user said in the summarized turns."""
    said = [s.strip() for s in _USER_TURN.findall(request.user_text or "") if s.strip()]
    if not said:
        return "The user has not said anything yet."
    return "The user said: " + "; ".join(json.dumps(s, ensure_ascii=False) for s in said)


def _check_reply(reply: object, where: str) -> list[str | Call]:
    checked: list[str | Call] = []
    for item in reply if isinstance(reply, list) else [reply]:
        if not isinstance(item, str | Call):
            raise ScriptError(f"{where}: a reply is a str, a Call or a list of them, got {item!r}")
        checked.append(item)
    return checked
