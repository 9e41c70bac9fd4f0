"""``GetCreditCardTask`` and its steps as charts: number, expiration date, security code, name.

Same class names, parameters, tools (``update_*``, ``confirm_*`` with the
repeated value, ``decline_card_capture``, ``restart_card_collection``) and
results as LiveKit's ``beta.workflows.credit_card``. Card data is confirmed by
repetition and never read back; the number must pass Luhn and its issuer's
length; the security code has the issuer's length; an expired card is
refused. The steps run as a ``TaskGroup`` that is not summarized. However the
task ends (a card, a decline, "start over", a failure, the session closing),
every card number and security code it heard of is replaced by ``[card]`` /
``[security code]`` in the conversation it hands back, typed or spoken, whole
or in parts, so no summarizer or later model request sees them. Logs show
``[redacted]``::

    result = await GetCreditCardTask(chat_ctx=self.chat_ctx)
    print(result.issuer, result.card_number[-4:])
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from livekit.agents import AgentTask as _LiveKitAgentTask
from livekit.agents import llm, stt, tts, vad
from livekit.agents.llm.chat_context import Instructions
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from taskchart.runtime.durable import Store
from taskchart.statecharts import Declined, StartOver, TaskSpec
from taskchart.statecharts.prebuilt import card
from taskchart.statecharts.prebuilt.card import (
    GetCardNumberResult,
    GetCreditCardResult,
    GetExpirationDateResult,
    GetSecurityCodeResult,
    redact_card_data,
)
from taskchart.statecharts.spoken import spoken_digits

from .errors import DeclinedError, TaskFailedError, register_error_type
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


# a card step's failure kept by a snapshot is raised as the card error again once restored
register_error_type(CardCaptureDeclinedError, lambda f: CardCaptureDeclinedError(f.message, f))
register_error_type(CardCollectionRestartError, lambda f: CardCollectionRestartError(f.message, f))


class _CardStep(PrebuiltTask):
    """A step of the card collection: its failures are the card errors."""

    def __init__(self, spec: TaskSpec, what: str, **kwargs: Any) -> None:
        base = card.BASE.format(what=what)
        super().__init__(spec, prompt=(base, card.AUDIO, card.TEXT), **kwargs)

    def complete(self, result: Any) -> None:
        """End the step; its conversation loses the card data it heard (see ``card_data``)."""
        if not self.done():
            self._heard = self.card_data()
            _hand_back_without(self, *self._heard)
        super().complete(result)

    def card_data(self) -> tuple[set[str], set[str]]:
        """The card numbers and codes this step heard of, as digits: what it stored, and
        every value the model passed to its card tools, valid or not (a mistyped number
        still gives most of the card away). Expiration dates are not secret."""
        heard: tuple[set[str], set[str]] | None = getattr(self, "_heard", None)
        if heard is not None:  # computed when the step ended, before its redaction
            return heard
        found: set[str] = set()
        if not isinstance(self, GetExpirationDateTask):
            found.update(map(str, self.flow.model.values.get(self.spec.id, {}).values()))
            for item in self.chat_ctx.items:
                if item.type == "function_call" and item.name in _CARD_TOOLS:
                    found.update(_digits_in(item.arguments))
        if isinstance(self, GetSecurityCodeTask):
            return set(), {c for c in found if len(c) >= 3}
        return {n for n in found if len(n) >= 4}, set()

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
    again with a fresh card. ``store``/``flow_id`` make the steps a durable
    task group (see :class:`TaskGroup`): with the store's encryption keys the
    card data is stored sealed; without, none of it is stored, and a call
    resumed by another worker asks for the card again, saying why.
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
        store: Store | None = None,
        flow_id: str | None = None,
        lease_ttl: float = 15.0,
        lease_wait: float = 0.0,
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
        self._steps: list[_LiveKitAgentTask[Any]] = []  # every step run, restarts included
        self._store = store
        self._flow_id = flow_id
        self._lease = (lease_ttl, lease_wait)

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
        group = TaskGroup(
            chat_ctx=ctx,
            summarize_chat_ctx=False,
            on_task_completed=remember_issuer,
            store=self._store,
            flow_id=self._flow_id,
            secret=True,
            lease_ttl=self._lease[0],
            lease_wait=self._lease[1],
        )

        def issuer_now() -> str:  # a resumed group has the number's result, not the callback's
            flow = group.flow
            number = flow.results.get("card_number_task") if flow is not None else None
            return number.issuer if isinstance(number, GetCardNumberResult) else issuer["value"]

        step = self._step
        group.add(
            lambda: step(
                GetCardNumberTask(
                    chat_ctx=ctx, require_confirmation=confirm, extra_instructions=extra
                )
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
            lambda: step(
                GetSecurityCodeTask(
                    chat_ctx=ctx,
                    require_confirmation=confirm,
                    extra_instructions=extra,
                    issuer=issuer_now(),
                )
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

    def _step(self, task: _Step) -> _Step:
        self._steps.append(task)
        return task

    async def on_enter(self) -> None:
        while not self.done():
            try:
                results = (await self.build_group()).task_results
            except CardCollectionRestartError:
                continue
            except Exception as exc:
                if not self.done():
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
            if not self.done():
                self.complete(result)

    def complete(self, result: GetCreditCardResult | Exception) -> None:
        """End the task; first take the card data out of the conversation handed back.

        Every ending comes here (a result, an error, LiveKit's ``cancel()`` when
        the session closes, a group's regression), and LiveKit merges this
        task's conversation into the parent's right after.
        """
        if not self.done():
            _hand_back_without(self, *self.card_data())
        super().complete(result)

    def card_data(self) -> tuple[set[str], set[str]]:
        """The card numbers and security codes every step run so far heard of, as digits."""
        numbers: set[str] = set()
        codes: set[str] = set()
        for step in self._steps:
            if isinstance(step, _CardStep):
                heard = step.card_data()
                numbers |= heard[0]
                codes |= heard[1]
        return numbers, codes


def _hand_back_without(task: _LiveKitAgentTask[Any], numbers: set[str], codes: set[str]) -> None:
    """Replace card data in ``task``'s conversation, which LiveKit hands back when it ends.

    The items are copies: the session's own history keeps what was said.
    """
    items = [_redacted(item, numbers, codes) for item in task.chat_ctx.items]
    task._chat_ctx.items[:] = items  # as LiveKit itself sets the parent's on handing back


_Step = TypeVar("_Step", bound=_LiveKitAgentTask[Any])
_CARD_TOOLS = frozenset(
    {"update_card_number", "confirm_card_number", "update_security_code", "confirm_security_code"}
)


def _digits_in(arguments: str) -> set[str]:
    """The digits of every value in a tool call's JSON arguments."""
    try:
        values = json.loads(arguments)
    except (ValueError, RecursionError):
        values = {"raw": arguments}
    found = set()
    for value in values.values() if isinstance(values, dict) else [values]:
        try:
            found.add(spoken_digits(str(value)))
        except ValueError:  # no digits in it
            continue
    return {"".join(filter(str.isdigit, d)) for d in found}


def _redacted(item: llm.ChatItem, numbers: set[str], codes: set[str]) -> llm.ChatItem:
    """``item`` with card data replaced (a copy: the session's history keeps its own)."""
    if item.type == "message":
        content = [
            redact_card_data(c, numbers, codes) if isinstance(c, str) else c for c in item.content
        ]
        return item if content == item.content else item.model_copy(update={"content": content})
    if item.type == "function_call":
        arguments = _redact_json(item.arguments, numbers, codes)
        return (
            item
            if arguments == item.arguments
            else item.model_copy(update={"arguments": arguments})
        )
    if item.type == "function_call_output":
        output = redact_card_data(item.output, numbers, codes)
        return item if output == item.output else item.model_copy(update={"output": output})
    return item


def _redact_json(text: str, numbers: set[str], codes: set[str]) -> str:
    """Tool arguments with card data replaced, still JSON (a number becomes a string)."""
    try:
        values = json.loads(text)
    except (ValueError, RecursionError):
        return redact_card_data(text, numbers, codes)
    cleaned = _redact_value(values, numbers, codes)
    return text if cleaned == values else json.dumps(cleaned, ensure_ascii=False)


def _redact_value(value: Any, numbers: set[str], codes: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _redact_value(v, numbers, codes) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, numbers, codes) for v in value]
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        redacted = redact_card_data(str(value), numbers, codes)
        return value if redacted == str(value) else redacted
    return value
