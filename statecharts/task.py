"""Task specifications: what a task collects, how it confirms, which tools it offers.

A :class:`TaskSpec` is pure data. :func:`declarative_task` describes a task
that collects typed fields and builds its result when every required field is
present (and confirmed, when the policy asks for it). :func:`implicit_task`
describes a hand-written task whose code decides when it is done: its chart is
``active -> complete | failed``.

>>> from dataclasses import dataclass
>>> @dataclass
... class Intro:
...     name: str
...     intro: str
>>> spec = declarative_task(
...     "intro", Intro,
...     fields=[Field("name"), Field("intro", description="introduction notes")],
...     confirmation=Confirmation.NEVER,
... )
>>> [t.name for t in spec.tools]
['update_intro', 'decline_intro']
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from typing import Any, Literal, TypedDict, TypeGuard, Unpack, get_args

import attrs

from .fields import Field
from .keywords import check_keywords

__all__ = [
    "COMPLETE",
    "CONFIRM",
    "CORRECT",
    "DECLINE",
    "FAIL",
    "KEY",
    "KEYS_TIMEOUT",
    "MODALITIES",
    "NO_MATCH",
    "TIMEOUT",
    "UPDATE",
    "Confirmation",
    "ImplicitOptions",
    "InputHandler",
    "Keypad",
    "Modality",
    "TaskOptions",
    "TaskSpec",
    "Tool",
    "declarative_task",
    "implicit_task",
    "is_modality",
]

#: How the user can speak to the agent.
Modality = Literal["text", "audio"]
MODALITIES: tuple[Modality, ...] = get_args(Modality)


def is_modality(value: object) -> TypeGuard[Modality]:
    """Whether ``value``, which may come from outside (an event, a log), is a :data:`Modality`."""
    return value in MODALITIES


# Chart event names shared by every task. Tools map onto them.
UPDATE = "update"
CONFIRM = "confirm"
CORRECT = "correct"
DECLINE = "decline"
FAIL = "fail"
TIMEOUT = "timeout"
COMPLETE = "complete"
KEY = "dtmf"
KEYS_TIMEOUT = "keys_timeout"
NO_MATCH = "no_match"

#: Route keys a task's handlers give up with (:attr:`TaskSpec.routes`).
GAVE_UP = ("no_input", "no_match")
#: The route key of any completion (:attr:`TaskSpec.then`).
THEN = "then"


class Confirmation(enum.Enum):
    """When a collected value must be read back and confirmed."""

    NEVER = "never"
    ALWAYS = "always"
    AUDIO_ONLY = "audio_only"

    def required(self, modality: Modality) -> bool:
        """Whether confirmation is needed for input of ``modality``."""
        if self is Confirmation.ALWAYS:
            return True
        if self is Confirmation.NEVER:
            return False
        return modality == "audio"


def _as_dict(mapping: Mapping[str, str] | None) -> dict[str, str]:
    return dict(mapping or {})


def _as_names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


@attrs.frozen(eq=False)
class Tool:
    """A tool offered to the model that sends one chart event.

    ``arguments`` maps tool argument names to field names (for ``update``
    and a confirmation by repetition) or to event keyword names (``reason``
    for ``decline`` and ``fail``). A ``fail`` tool ends the task with
    ``failure(task_id, reason)`` (``StartOver`` for "start over" tools).
    """

    name: str
    event: str | None
    description: str = ""
    arguments: Mapping[str, str] = attrs.field(factory=dict, converter=_as_dict)
    required: tuple[str, ...] = ()
    failure: type[Exception] | None = None

    def __attrs_post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"tool name {self.name!r} must be an identifier")


#: The tones DTMF sends, one key each: a phone's twelve keys, and A-D (as LiveKit's DtmfEvent).
KEYPAD_KEYS: tuple[str, ...] = tuple("0123456789*#ABCD")


@attrs.frozen
class Keypad:
    """Keypad (DTMF) entry for a task: tones fill ``field`` with ``num_digits`` keys.

    Collection ends when ``num_digits`` keys arrived, at ``stop_key``, or
    ``timeout`` seconds after the last key. Too few keys fail the task, as in
    LiveKit, after ``max_retries`` re-prompts. The value stored is the keys
    joined by single spaces ("4 1 5").
    """

    num_digits: int
    field: str
    stop_key: str | None = "#"
    timeout: float = 4.0
    max_retries: int = 0
    #: A key that reads the prompt again, counting nothing (a menu's ``#``).
    repeat_key: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.num_digits <= 0:
            raise ValueError("num_digits must be greater than 0")
        if self.timeout <= 0:
            raise ValueError("the keypad timeout must be positive")
        if self.max_retries < 0:
            raise ValueError("max_retries must not be negative")


def _prompts(value: Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen
class InputHandler:
    """What a step does when the caller gives no input, or no answer it can use.

    ``prompts`` are said one per re-prompt, the last one repeating (none: the
    runtime's default words); after ``max_retries`` re-prompts the next failure
    gives up: the task fails (``NoInput`` / ``NoMatch``), or, with ``exit``,
    the flow goes on to the task of that id (an operator) and ends after it.
    ``timeout`` is the seconds of silence that count as no input (required for
    ``no_input``, unused for ``no_match``).

    >>> InputHandler(timeout=5.0, prompts=["Sorry?", "Please key in your number."]).prompt(3)
    'Please key in your number.'
    """

    timeout: float | None = None
    prompts: tuple[str, ...] = attrs.field(default=(), converter=_prompts)
    max_retries: int = 2
    exit: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError("the no-input timeout must be positive")
        if self.max_retries < 0:
            raise ValueError("max_retries must not be negative")

    def prompt(self, attempt: int) -> str | None:
        """The prompt of re-prompt ``attempt`` (1 for the first), or None for the default."""
        if not self.prompts:
            return None
        return self.prompts[min(max(attempt, 1), len(self.prompts)) - 1]


@attrs.frozen(eq=False)
class TaskSpec:
    """Everything the chart builder and runtime need to know about one task."""

    id: str
    kind: Literal["declarative", "implicit"]
    fields: tuple[Field, ...] = ()
    result: Callable[..., Any] | None = None
    confirmation: Confirmation = Confirmation.AUDIO_ONLY
    instructions: str = ""
    description: str = ""
    tools: tuple[Tool, ...] = ()
    depends_on: tuple[str, ...] = attrs.field(default=(), converter=_as_names)
    no_input_timeout: float | None = None
    max_reprompts: int = 2
    subject: str = ""
    validate: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    readback: Callable[[Mapping[str, Any]], str] | None = None
    keypad: Keypad | None = None
    spelled_readback: Callable[[Mapping[str, Any]], str] | None = None
    confirm_heard: bool = False
    #: Silence handling; ``no_input_timeout``/``max_reprompts`` are the short form of it.
    no_input: InputHandler | None = None
    #: Handling of caller turns that give nothing the step can use (and of refused values).
    no_match: InputHandler | None = None
    #: Where a flow goes when the task ends, by route key: a result's ``key`` (a menu
    #: option), ``"no_input"``/``"no_match"`` when its handlers gave up (see ``exit``).
    routes: Mapping[str, str] = attrs.field(factory=dict, converter=_as_dict)
    #: The task a flow goes to after this one completes, whatever its result.
    then: str | None = None
    #: No-input and no-match re-prompts draw on one budget (a menu's ``max_retries``):
    #: a handler gives up when the re-prompts of both kinds together reach its limit.
    shared_retries: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.id.isidentifier() or "__" in self.id:
            raise ValueError(
                f"task id {self.id!r} must be an identifier without '__' (it prefixes state ids)"
            )
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"task {self.id!r} has duplicate field names: {names}")
        tool_names = [t.name for t in self.tools]
        if len(set(tool_names)) != len(tool_names):
            raise ValueError(f"task {self.id!r} has duplicate tool names: {tool_names}")
        known = set(names)
        for tool in self.tools:
            if tool.event in (UPDATE, CONFIRM):
                unknown = set(tool.arguments.values()) - known
                if unknown:
                    raise ValueError(
                        f"tool {tool.name!r} of task {self.id!r} sets unknown fields "
                        f"{sorted(unknown)}"
                    )
        if self.no_input_timeout is not None and self.no_input_timeout <= 0:
            raise ValueError("no_input_timeout must be positive")
        if self.keypad is not None and self.keypad.field not in known:
            raise ValueError(f"keypad field {self.keypad.field!r} is not a field of {self.id!r}")
        # one mechanism: the short form fills the handler and the handler the short form
        if self.no_input is None and self.no_input_timeout is not None:
            handler = InputHandler(
                timeout=self.no_input_timeout, max_retries=max(self.max_reprompts, 0)
            )
            object.__setattr__(self, "no_input", handler)
        elif self.no_input is not None:
            if self.no_input.timeout is None:
                raise ValueError("a no_input handler needs its timeout")
            object.__setattr__(self, "no_input_timeout", self.no_input.timeout)
            object.__setattr__(self, "max_reprompts", self.no_input.max_retries)

    @cached_property
    def confirms_by_repetition(self) -> bool:
        """A confirm tool takes the value again; the repeat must match what was stored."""
        return any(t.event == CONFIRM and t.arguments for t in self.tools)

    @cached_property
    def updates_fill_every_field(self) -> bool:
        """Every update the runtime accepts carries every required field.

        The runtime refuses a call without a required argument and a call
        with no value, so a required field is always there when a required
        argument sets it or when it is the only field the tool sets (a
        ``validate`` may drop values: then it is not decided).
        """
        if self.validate is not None:
            return False
        for tool in self.tools:
            if tool.event != UPDATE:
                continue
            given = {tool.arguments[a] for a in tool.required if a in tool.arguments}
            sets = set(tool.arguments.values())
            if any(f not in given and sets != {f} for f in self.required_fields):
                return False
        return True

    @cached_property
    def route_table(self) -> dict[str, str]:
        """Every route of the task by key: ``routes``, the handlers' exits, ``then``."""
        table = dict(self.routes)
        for key, handler in (("no_input", self.no_input), ("no_match", self.no_match)):
            if handler is not None and handler.exit is not None:
                table[key] = handler.exit
        if self.then is not None:
            table[THEN] = self.then
        return table

    def handler(self, kind: str) -> InputHandler | None:
        """The ``"no_input"`` or ``"no_match"`` handler, if declared."""
        return (
            self.no_input if kind == "no_input" else self.no_match if kind == "no_match" else None
        )

    @cached_property
    def field_map(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @cached_property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @cached_property
    def _tools_by_name(self) -> dict[str, Tool]:
        return {t.name: t for t in self.tools}

    @property
    def label(self) -> str:
        """Human words for what the task collects ("email address")."""
        return self.subject or self.id.replace("_", " ")

    def tool(self, name: str) -> Tool | None:
        return self._tools_by_name.get(name)

    def build_result(self, values: Mapping[str, Any]) -> Any:
        """Build the typed result from collected values."""
        if self.result is None:
            return dict(values)
        return self.result(**{f.name: values.get(f.name) for f in self.fields})


def _default_tools(task_id: str, fields: Iterable[Field], label: str) -> tuple[Tool, ...]:
    fields = tuple(fields)
    return (  # update, confirm, correct, decline
        Tool(
            f"update_{task_id}",
            UPDATE,
            f"Record the {label} the user gave. Call again with only the fields that changed.",
            {f.name: f.name for f in fields},
        ),
        Tool(
            f"confirm_{task_id}",
            CONFIRM,
            f"Call after the user confirmed the {label} you read back to them.",
        ),
        Tool(
            f"correct_{task_id}",
            CORRECT,
            f"Call when the user says the {label} you read back is wrong but has not "
            "given the right one yet.",
        ),
        Tool(
            f"decline_{task_id}",
            DECLINE,
            f"Call when the user will not or cannot give the {label}.",
            {"reason": "reason"},
            ("reason",),
        ),
    )


class ImplicitOptions(TypedDict, total=False):
    """The keywords a hand-written task passes on to :class:`TaskSpec` (see its attributes)."""

    instructions: str
    description: str
    depends_on: Iterable[str]
    routes: Mapping[str, str] | None
    then: str | None


class TaskOptions(ImplicitOptions, total=False):
    """The keywords :func:`declarative_task` passes on to :class:`TaskSpec`, defaults and all."""

    confirmation: Confirmation
    no_input_timeout: float | None
    max_reprompts: int
    subject: str
    validate: Callable[[dict[str, Any]], dict[str, Any]] | None
    readback: Callable[[Mapping[str, Any]], str] | None
    keypad: Keypad | None
    spelled_readback: Callable[[Mapping[str, Any]], str] | None
    confirm_heard: bool
    no_input: InputHandler | None
    no_match: InputHandler | None
    shared_retries: bool


def declarative_task(
    id: str,
    result: Callable[..., Any] | None = None,
    *,
    fields: Iterable[Field],
    tools: Iterable[Tool] | None = None,
    **options: Unpack[TaskOptions],
) -> TaskSpec:
    """Describe a task that collects ``fields`` and returns ``result(**values)``.

    The other keywords (:class:`TaskOptions`) are :class:`TaskSpec`'s, with its
    defaults: ``confirmation`` is ``AUDIO_ONLY``, ``max_reprompts`` 2. Without ``tools``, the task offers ``update_<id>`` (every field),
    ``confirm_<id>``, ``correct_<id>`` and ``decline_<id>``; the confirmation
    tools are dropped when ``confirmation`` is ``NEVER``.

    ``validate`` checks the values of an update together with those already
    collected (a date from year, month and day) and returns the values to
    store, or raises ``ValueError`` with a reason for the model. ``readback``
    words the read-back instruction from the collected values;
    ``spelled_readback``, when given, words every read-back after the first
    (LiveKit's prebuilt tasks spell the value out once it was read back). A confirm
    tool with arguments confirms by repetition: the repeated value must match
    the stored one. ``keypad`` takes the value from DTMF tones.
    ``confirm_heard`` lets a confirm tool with arguments complete the task in
    one call from ``collecting`` when the conversation shows its value was
    read back and answered (``ToolCalled.heard``, set by the adapter).
    ``no_input`` and ``no_match`` declare what silence and unusable answers do
    (:class:`InputHandler`; ``no_input_timeout``/``max_reprompts`` are the
    short form of ``no_input``), each with its own count, or one count for
    both with ``shared_retries``; ``routes`` and ``then`` say where a flow
    goes when the task ends.
    """
    check_keywords("declarative_task", options, TaskOptions)
    fields = tuple(fields)
    if not fields:
        raise ValueError(
            f"declarative task {id!r} has no fields: it would complete on an empty update; "
            "give it at least one Field (or use implicit_task for a hand-written task)"
        )
    spec = TaskSpec(
        id=id,
        kind="declarative",
        fields=fields,
        result=result,
        tools=() if tools is None else tuple(tools),
        **options,
    )
    if tools is not None:
        return spec
    chosen = _default_tools(id, fields, spec.subject or id.replace("_", " "))
    if spec.confirmation is Confirmation.NEVER:
        chosen = tuple(t for t in chosen if t.event not in (CONFIRM, CORRECT))
    return attrs.evolve(spec, tools=chosen)


def implicit_task(
    id: str, *, tools: Iterable[str] = (), **options: Unpack[ImplicitOptions]
) -> TaskSpec:
    """Describe a hand-written task: its own code calls ``complete(result)``.

    ``tools`` are the names of the task's own tools; they do not move the
    chart, so they are offered for as long as the task is active. ``routes``
    and ``then`` say where a flow goes when it ends (see :class:`TaskSpec`).
    """
    check_keywords("implicit_task", options, ImplicitOptions)
    return TaskSpec(
        id=id,
        kind="implicit",
        tools=tuple(Tool(name, None) for name in tools),
        confirmation=Confirmation.NEVER,
        **options,
    )
