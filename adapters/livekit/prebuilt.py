"""LiveKit's prebuilt tasks as charts: ``GetEmailTask``, ``GetAddressTask``, ``GetPhoneNumberTask``,
``GetNameTask``, ``GetDOBTask``.

Same class names, constructor parameters, tool names and arguments and result
dataclasses as ``livekit.agents.beta.workflows`` 1.8.9; change only the
import line::

    from taskchart.adapters.livekit import GetEmailTask

    email_result = await GetEmailTask(chat_ctx=self.chat_ctx)
    print(email_result.email_address)

Each runs its chart from :mod:`taskchart.statecharts.prebuilt`: the confirm
tool is offered only once there is a value to confirm, a value changed after
the read-back needs a new confirmation, and declining raises
:class:`~taskchart.adapters.livekit.errors.DeclinedError` (a ``ToolError``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livekit.agents import llm, stt, tts, vad
from livekit.agents.beta.workflows.utils import WorkflowInstructions
from livekit.agents.llm.chat_context import Instructions
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from livekit.agents.utils import is_given
from taskchart.runtime.logs import get_logger
from taskchart.statecharts import TaskSpec
from taskchart.statecharts.prebuilt import (
    GetAddressResult,
    GetDOBResult,
    GetEmailResult,
    GetNameResult,
    GetPhoneNumberResult,
    address,
    dob,
    email,
    name,
    phone,
)

from .chart_task import ChartTask

if TYPE_CHECKING:
    from livekit.agents.voice.turn import TurnDetectionMode

__all__ = [
    "GetAddressResult",
    "GetAddressTask",
    "GetDOBResult",
    "GetDOBTask",
    "GetEmailResult",
    "GetEmailTask",
    "GetNameResult",
    "GetNameTask",
    "GetPhoneNumberResult",
    "GetPhoneNumberTask",
    "PrebuiltTask",
    "WorkflowInstructions",
]

_log = get_logger("taskchart.adapters.livekit")


def given(value: NotGivenOr[Any]) -> Any:
    """``None`` for LiveKit's ``NOT_GIVEN``, else the value."""
    return value if is_given(value) else None


#: Constructor arguments every prebuilt task hands on unchanged.
_FORWARDED = (
    "instructions",
    "extra_instructions",
    "chat_ctx",
    "tools",
    "require_explicit_ask",
    "turn_detection",
    "stt",
    "vad",
    "llm",
    "tts",
    "allow_interruptions",
)


def forwarded(scope: dict[str, Any]) -> dict[str, Any]:
    """The arguments in a constructor's ``locals()`` that go on to :class:`PrebuiltTask`."""
    return {k: scope[k] for k in _FORWARDED if k in scope}


class PrebuiltTask(ChartTask[Any]):
    """What the prebuilt tasks share: LiveKit's keyword arguments mapped onto a chart task.

    ``instructions`` follow LiveKit's rules: by default the task's own, with
    ``extra_instructions`` at the end; a :class:`WorkflowInstructions` puts its
    ``persona`` (when given) in place of the task's first line and its ``extra``
    at the end; a plain string or ``Instructions`` is used as it is, and then
    ``extra_instructions`` is ignored.
    """

    def __init__(
        self,
        spec: TaskSpec,
        *,
        prompt: tuple[str, str, str],
        update_tools: tuple[str, ...],
        instructions: NotGivenOr[WorkflowInstructions | Instructions | str] = NOT_GIVEN,
        extra_instructions: str = "",
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        tools: NotGivenOr[list[llm.Tool | llm.Toolset]] = NOT_GIVEN,
        require_explicit_ask: bool = False,
        **agent_kwargs: Any,
    ) -> None:
        if is_given(instructions) and extra_instructions:
            _log.warning("extra_instructions are ignored when instructions are given")
        chosen: Instructions | str
        if isinstance(instructions, WorkflowInstructions):
            chosen = _resolve(instructions, prompt)
        elif isinstance(instructions, Instructions | str):
            chosen = instructions
        else:
            chosen = _resolve(WorkflowInstructions(extra=extra_instructions), prompt)
        declines = tuple(t.name for t in spec.tools if t.name.startswith("decline_"))
        super().__init__(
            spec,
            instructions=chosen,
            chat_ctx=chat_ctx,
            tools=list(tools) if is_given(tools) else None,
            ignore_on_enter=(*declines, *(update_tools if require_explicit_ask else ())),
            **{k: v for k, v in agent_kwargs.items() if is_given(v)},
        )


def _resolve(instructions: WorkflowInstructions, prompt: tuple[str, str, str]) -> Instructions:
    """LiveKit's resolution: the persona, the task's rules, the modality's part, the extra."""
    base, audio, text = prompt
    persona, _, rules = base.partition("\n")
    rules = rules.replace("{", "{{").replace("}", "}}")  # text, not placeholders
    return instructions.resolve(
        template="{persona}\n" + rules + "\n{_modality_specific}\n\n{extra}\n",
        default_persona=persona,
        _modality_specific=Instructions(audio=audio, text=text),
    )


class GetEmailTask(PrebuiltTask):
    """Collect an email address; ``await`` gives :class:`GetEmailResult`."""

    def __init__(
        self,
        *,
        instructions: NotGivenOr[WorkflowInstructions | Instructions | str] = NOT_GIVEN,
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        turn_detection: NotGivenOr[TurnDetectionMode | None] = NOT_GIVEN,
        tools: NotGivenOr[list[llm.Tool | llm.Toolset]] = NOT_GIVEN,
        stt: NotGivenOr[stt.STT[Any] | None] = NOT_GIVEN,
        vad: NotGivenOr[vad.VAD | None] = NOT_GIVEN,
        llm: NotGivenOr[llm.LLM[Any] | llm.RealtimeModel | None] = NOT_GIVEN,
        tts: NotGivenOr[tts.TTS[Any] | None] = NOT_GIVEN,
        allow_interruptions: NotGivenOr[bool] = NOT_GIVEN,
        require_confirmation: NotGivenOr[bool] = NOT_GIVEN,
        require_explicit_ask: bool = False,
        verify_spelling: bool = False,
        extra_instructions: str = "",
    ) -> None:
        super().__init__(
            email.email_spec(given(require_confirmation), verify_spelling),
            prompt=(email.BASE, email.AUDIO, email.TEXT),
            update_tools=("update_email_address",),
            **forwarded(locals()),
        )


class GetAddressTask(PrebuiltTask):
    """Collect a mailing address; ``await`` gives :class:`GetAddressResult`."""

    def __init__(
        self,
        *,
        instructions: NotGivenOr[WorkflowInstructions | Instructions | str] = NOT_GIVEN,
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        turn_detection: NotGivenOr[TurnDetectionMode | None] = NOT_GIVEN,
        tools: NotGivenOr[list[llm.Tool | llm.Toolset]] = NOT_GIVEN,
        stt: NotGivenOr[stt.STT[Any] | None] = NOT_GIVEN,
        vad: NotGivenOr[vad.VAD | None] = NOT_GIVEN,
        llm: NotGivenOr[llm.LLM[Any] | llm.RealtimeModel | None] = NOT_GIVEN,
        tts: NotGivenOr[tts.TTS[Any] | None] = NOT_GIVEN,
        allow_interruptions: NotGivenOr[bool] = NOT_GIVEN,
        require_confirmation: NotGivenOr[bool] = NOT_GIVEN,
        require_explicit_ask: bool = False,
        extra_instructions: str = "",
    ) -> None:
        super().__init__(
            address.address_spec(given(require_confirmation)),
            prompt=(address.BASE, address.AUDIO, address.TEXT),
            update_tools=("update_address",),
            **forwarded(locals()),
        )


class GetPhoneNumberTask(PrebuiltTask):
    """Collect a phone number; ``await`` gives :class:`GetPhoneNumberResult`.

    ``phone_number`` is the number as collected, as in LiveKit; ``e164`` its
    E.164 form. ``region`` (an ISO country code) reads numbers given without ``+``.
    """

    def __init__(
        self,
        extra_instructions: str = "",
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        turn_detection: NotGivenOr[TurnDetectionMode | None] = NOT_GIVEN,
        tools: NotGivenOr[list[llm.Tool | llm.Toolset]] = NOT_GIVEN,
        stt: NotGivenOr[stt.STT[Any] | None] = NOT_GIVEN,
        vad: NotGivenOr[vad.VAD | None] = NOT_GIVEN,
        llm: NotGivenOr[llm.LLM[Any] | llm.RealtimeModel | None] = NOT_GIVEN,
        tts: NotGivenOr[tts.TTS[Any] | None] = NOT_GIVEN,
        allow_interruptions: NotGivenOr[bool] = NOT_GIVEN,
        require_confirmation: NotGivenOr[bool] = NOT_GIVEN,
        require_explicit_ask: bool = False,
        region: str = "US",
    ) -> None:
        super().__init__(
            phone.phone_spec(given(require_confirmation), region),
            prompt=(phone.BASE, phone.AUDIO, phone.TEXT),
            update_tools=("update_phone_number",),
            **forwarded(locals()),
        )


class GetNameTask(PrebuiltTask):
    """Collect a name (the parts flagged ``True``); ``await`` gives :class:`GetNameResult`."""

    def __init__(
        self,
        first_name: bool = True,
        last_name: bool = False,
        middle_name: bool = False,
        name_format: NotGivenOr[str] = NOT_GIVEN,
        verify_spelling: bool = False,
        extra_instructions: str = "",
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        turn_detection: NotGivenOr[TurnDetectionMode | None] = NOT_GIVEN,
        tools: NotGivenOr[list[llm.Tool | llm.Toolset]] = NOT_GIVEN,
        stt: NotGivenOr[stt.STT[Any] | None] = NOT_GIVEN,
        vad: NotGivenOr[vad.VAD | None] = NOT_GIVEN,
        llm: NotGivenOr[llm.LLM[Any] | llm.RealtimeModel | None] = NOT_GIVEN,
        tts: NotGivenOr[tts.TTS[Any] | None] = NOT_GIVEN,
        allow_interruptions: NotGivenOr[bool] = NOT_GIVEN,
        require_confirmation: NotGivenOr[bool] = NOT_GIVEN,
        require_explicit_ask: bool = False,
    ) -> None:
        spec = name.name_spec(
            first_name,
            last_name,
            middle_name,
            given(name_format),
            verify_spelling,
            given(require_confirmation),
        )
        parts = [
            p
            for p, wanted in zip(name.PARTS, (first_name, middle_name, last_name), strict=True)
            if wanted
        ]
        order = given(name_format) or " ".join(f"{{{p}}}" for p in parts)
        super().__init__(
            spec,
            prompt=(name.BASE.replace("{name_format}", order), name.AUDIO, name.TEXT),
            update_tools=("update_name",),
            **forwarded(locals()),
        )


class GetDOBTask(PrebuiltTask):
    """Collect a date of birth (and optionally the time); ``await`` gives :class:`GetDOBResult`."""

    def __init__(
        self,
        extra_instructions: str = "",
        include_time: bool = False,
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        turn_detection: NotGivenOr[TurnDetectionMode | None] = NOT_GIVEN,
        tools: NotGivenOr[list[llm.Tool | llm.Toolset]] = NOT_GIVEN,
        stt: NotGivenOr[stt.STT[Any] | None] = NOT_GIVEN,
        vad: NotGivenOr[vad.VAD | None] = NOT_GIVEN,
        llm: NotGivenOr[llm.LLM[Any] | llm.RealtimeModel | None] = NOT_GIVEN,
        tts: NotGivenOr[tts.TTS[Any] | None] = NOT_GIVEN,
        allow_interruptions: NotGivenOr[bool] = NOT_GIVEN,
        require_confirmation: NotGivenOr[bool] = NOT_GIVEN,
        require_explicit_ask: bool = False,
    ) -> None:
        when = dob.TIME_INSTRUCTIONS if include_time else ""
        super().__init__(
            dob.dob_spec(given(require_confirmation), include_time),
            prompt=(dob.BASE.replace("{time_instructions}", when), dob.AUDIO, dob.TEXT),
            update_tools=("update_dob", "update_time"),
            **forwarded(locals()),
        )
