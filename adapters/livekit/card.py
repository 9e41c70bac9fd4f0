"""``GetCreditCardTask`` and its steps as charts: number, expiration date, security code, name.

Same class names, parameters, tools (``update_*``, ``confirm_*`` with the
repeated value, ``decline_card_capture``, ``restart_card_collection``) and
results as LiveKit's ``beta.workflows.credit_card``. Card data is confirmed by
repetition and never read back; the number must pass Luhn and its issuer's
length; the security code has the issuer's length; an expired card is
refused. The steps run as a ``TaskGroup`` that is not summarized, and once the
card is collected the card number and security code are replaced by
``[card]`` / ``[security code]`` in the conversation handed back, so no
summarizer or later model request sees them. Logs show ``[redacted]``::

    result = await GetCreditCardTask(chat_ctx=self.chat_ctx)
    print(result.issuer, result.card_number[-4:])
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from livekit.agents import llm, stt, tts, vad
from livekit.agents.llm.chat_context import Instructions
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from taskchart.statecharts import Declined, StartOver, TaskSpec
from taskchart.statecharts.prebuilt import card
from taskchart.statecharts.prebuilt.card import (
    GetCardNumberResult,
    GetCreditCardResult,
    GetExpirationDateResult,
    GetSecurityCodeResult,
)

from .errors import DeclinedError, TaskFailedError
from .group import TaskCompletedEvent, TaskGroup
from .prebuilt import GetNameTask, PrebuiltTask, forwarded, given
from .task import AgentTask

if TYPE_CHECKING:
    from livekit.agents.voice.turn import TurnDetectionMode

__all__ = [
    "CardCaptureDeclinedError",
    "CardCollectionRestartError",
    "GetCardNumberResult",
    "GetCardNumberTask",
    "GetCreditCardResult",
    "GetCreditCardTask",
    "GetExpirationDateResult",
    "GetExpirationDateTask",
    "GetSecurityCodeResult",
    "GetSecurityCodeTask",
]


class CardCaptureDeclinedError(DeclinedError):
    """The user declined to give a card detail; ``reason`` says why."""

    def __init__(self, reason: str, failure: Exception | None = None) -> None:
        super().__init__(
            failure or Declined("card", reason), f"couldn't get the card details: {reason}"
        )
        self._reason = reason

    @property
    def reason(self) -> str:
        return self._reason


class CardCollectionRestartError(TaskFailedError):
    """The user wants to start the card collection over (with another card)."""

    def __init__(self, reason: str, failure: Exception | None = None) -> None:
        super().__init__(failure or StartOver("card", reason), f"starting over: {reason}")
        self._reason = reason

    @property
    def reason(self) -> str:
        return self._reason


class _CardStep(PrebuiltTask):
    """A step of the card collection: its failures are the card errors."""

    def __init__(self, spec: TaskSpec, what: str, **kwargs: Any) -> None:
        base = card.BASE.format(what=what)
        super().__init__(spec, prompt=(base, card.AUDIO, card.TEXT), **kwargs)

    def error_for(self, failure: Exception) -> Exception:
        if isinstance(failure, Declined):
            return CardCaptureDeclinedError(failure.message, failure)
        if isinstance(failure, StartOver):
            return CardCollectionRestartError(failure.message, failure)
        return super().error_for(failure)


class GetCardNumberTask(_CardStep):
    """Collect the card number; ``await`` gives :class:`GetCardNumberResult`."""

    def __init__(
        self,
        *,
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        require_confirmation: NotGivenOr[bool] = NOT_GIVEN,
        require_explicit_ask: bool = False,
        extra_instructions: str = "",
    ) -> None:
        super().__init__(
            card.card_number_spec(given(require_confirmation)),
            "credit card number",
            update_tools=("update_card_number",),
            **forwarded(locals()),
        )


class GetSecurityCodeTask(_CardStep):
    """Collect the security code (``issuer`` fixes its length); gives :class:`GetSecurityCodeResult`."""

    def __init__(
        self,
        *,
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        require_confirmation: NotGivenOr[bool] = NOT_GIVEN,
        require_explicit_ask: bool = False,
        extra_instructions: str = "",
        issuer: str = "",
    ) -> None:
        super().__init__(
            card.security_code_spec(given(require_confirmation), issuer),
            "card's security code",
            update_tools=("update_security_code",),
            **forwarded(locals()),
        )


class GetExpirationDateTask(_CardStep):
    """Collect the expiration date ("MM/YY"); gives :class:`GetExpirationDateResult`."""

    def __init__(
        self,
        *,
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        require_confirmation: NotGivenOr[bool] = NOT_GIVEN,
        require_explicit_ask: bool = False,
        extra_instructions: str = "",
    ) -> None:
        super().__init__(
            card.expiration_date_spec(given(require_confirmation)),
            "card's expiration date",
            update_tools=("update_expiration_date",),
            **forwarded(locals()),
        )


_CARDHOLDER = (
    "You are collecting the name on the credit card (the cardholder). When you ask the user "
    "to confirm a candidate name from earlier in the conversation, anchor the question to the "
    "card or cardholder so the user knows which name you mean."
)


class GetCreditCardTask(AgentTask[GetCreditCardResult]):
    """Collect a credit card: number, expiration date, security code, cardholder name.

    Declining raises :class:`CardCaptureDeclinedError`; "start over" begins
    again with a fresh card.
    """

    def __init__(
        self,
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        turn_detection: NotGivenOr[TurnDetectionMode | None] = NOT_GIVEN,
        tools: NotGivenOr[list[llm.Tool | llm.Toolset]] = NOT_GIVEN,
        stt: NotGivenOr[stt.STT[Any] | None] = NOT_GIVEN,
        vad: NotGivenOr[vad.VAD | None] = NOT_GIVEN,
        llm: NotGivenOr[llm.LLM[Any] | llm.RealtimeModel | None] = NOT_GIVEN,
        tts: NotGivenOr[tts.TTS[Any] | None] = NOT_GIVEN,
        allow_interruptions: NotGivenOr[bool] = NOT_GIVEN,
        require_confirmation: NotGivenOr[bool] = NOT_GIVEN,
        extra_instructions: str = "",
    ) -> None:
        super().__init__(
            instructions=Instructions("You collect the user's credit card details, step by step."),
            chat_ctx=chat_ctx,
            turn_detection=turn_detection,
            tools=tools or [],
            stt=stt,
            vad=vad,
            llm=llm,
            tts=tts,
            allow_interruptions=allow_interruptions,
        )
        self._require_confirmation = require_confirmation
        self._extra_instructions = extra_instructions

    def build_group(self) -> TaskGroup:
        """The card steps as a task group (not summarized: card data never goes to a summarizer)."""
        ctx = self.chat_ctx
        extra = self._extra_instructions
        confirm = self._require_confirmation
        issuer = {"value": ""}

        async def remember_issuer(event: TaskCompletedEvent) -> None:
            if isinstance(event.result, GetCardNumberResult):
                issuer["value"] = event.result.issuer

        holder_extra = f"{extra}\n\n{_CARDHOLDER}" if extra else _CARDHOLDER
        group = TaskGroup(chat_ctx=ctx, summarize_chat_ctx=False, on_task_completed=remember_issuer)
        group.add(
            lambda: GetCardNumberTask(
                chat_ctx=ctx, require_confirmation=confirm, extra_instructions=extra
            ),
            id="card_number_task",
            description="Collects the user's card number",
        )
        group.add(
            lambda: GetExpirationDateTask(
                chat_ctx=ctx, require_confirmation=confirm, extra_instructions=extra
            ),
            id="expiration_date_task",
            description="Collects the card's expiration date",
        )
        group.add(
            lambda: GetSecurityCodeTask(
                chat_ctx=ctx,
                require_confirmation=confirm,
                extra_instructions=extra,
                issuer=issuer["value"],
            ),
            id="security_code_task",
            description="Collects the card's security code",
            depends_on=["card_number_task"],  # its length follows the issuer
        )
        group.add(
            lambda: GetNameTask(
                last_name=True,
                chat_ctx=ctx,
                extra_instructions=holder_extra,
                require_confirmation=confirm,
                require_explicit_ask=True,
            ),
            id="cardholder_name_task",
            description="Collects the cardholder's full name",
        )
        return group

    async def on_enter(self) -> None:
        while not self.done():
            try:
                results = (await self.build_group()).task_results
            except CardCollectionRestartError:
                continue
            except Exception as exc:
                self.complete(exc)
                return
            holder = results["cardholder_name_task"]
            number: GetCardNumberResult = results["card_number_task"]
            result = GetCreditCardResult(
                cardholder_name=f"{holder.first_name} {holder.last_name}",
                issuer=number.issuer,
                card_number=number.card_number,
                security_code=results["security_code_task"].security_code,
                expiration_date=results["expiration_date_task"].date,
            )
            await self._redact_card_data(result)
            self.complete(result)

    async def _redact_card_data(self, result: GetCreditCardResult) -> None:
        """Replace the number and the code in this task's conversation before it is handed back."""
        patterns = [
            (_spaced(result.card_number), "[card]"),
            (_spaced(result.security_code), "[security code]"),
        ]
        ctx = self.chat_ctx.copy()
        for item in ctx.items:
            if item.type == "message":
                item.content = [
                    _redact(c, patterns) if isinstance(c, str) else c for c in item.content
                ]
            elif item.type == "function_call":
                item.arguments = _redact(item.arguments, patterns)
        await self.update_chat_ctx(ctx)


def _spaced(digits: str) -> re.Pattern[str]:
    """``digits`` with any spaces, dashes or dots between them, not inside a longer number."""
    body = r"[\s\-.]*".join(map(re.escape, digits))
    return re.compile(rf"(?<!\d){body}(?!\d)")


def _redact(text: str, patterns: list[tuple[re.Pattern[str], str]]) -> str:
    for pattern, mark in patterns:
        text = pattern.sub(mark, text)
    return text
