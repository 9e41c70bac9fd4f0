"""The call's own events for a chart task: keypad tones, speech states, away.

Rules of this file: a :class:`CallListener` turns what the room and the
session report into runtime events and hands them to the task's ``feed``
(which takes them through the chart and acts on the effects); it decides
nothing about the flow itself. What it subscribes to, it unsubscribes from
in :meth:`CallListener.close`, so a finished task hears nothing more.

Theory of operation: a step with a keypad listens to the room's
``sip_dtmf_received`` through the room's type-ahead buffer (:mod:`.typeahead`:
tones pressed between two tasks reach the next one once it has started,
:meth:`CallListener.ready`); only the caller's tones count (``caller_identity``,
else the participant the session is linked to, else the first one heard; a
tone sent by a server SDK has no participant and counts). A step with
``no_input`` or ``no_match`` handling listens to the session and tracks both
parties' states, as LiveKit's own away timer does: the no-input timer runs
only while the agent is neither speaking nor thinking and the caller is not
speaking. The call falling quiet starts it (:class:`AgentSpeaking` ``False``),
either party taking the floor stops it (:class:`AgentSpeaking` ``True``,
:class:`UserSpeaking`): so a caller who barges in and keeps talking after the
agent stops is not timed, and a false start (the caller speaks, no words come)
restarts it. The caller's ``away`` state is a no-input (:class:`UserAway`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from livekit import rtc
from livekit.agents import get_job_context
from livekit.agents.voice.events import AgentStateChangedEvent, UserStateChangedEvent
from taskchart.runtime import (
    AgentSpeaking,
    Clock,
    DtmfReceived,
    Event,
    Outcome,
    UserAway,
    UserSpeaking,
)
from taskchart.runtime.logs import get_logger

from .typeahead import TypeAhead, type_ahead

__all__ = ["CallListener"]

_log = get_logger("taskchart.livekit.chart_task")
_AGENT_BUSY = frozenset({"speaking", "thinking"})


class CallListener:
    """Feed a chart task the tones, speech states and absences of its call."""

    def __init__(
        self,
        feed: Callable[[Event], Outcome],
        caller_identity: str | None,
        *,
        clock: Clock,
        open: Callable[[], bool],
    ) -> None:
        self._feed = feed
        self._caller = caller_identity
        self._clock = clock
        self._open = open  # whether the task still takes the call's events
        self._session: Any = None
        self._tones: TypeAhead | None = None
        self._on_dtmf: Callable[[rtc.SipDTMF], None] | None = None
        self._listening = False
        self._agent = "listening"  # the parties' states, tracked while listening
        self._user = "listening"

    def listen(
        self,
        session: Any,
        *,
        keypad: bool,
        speech: bool,
        on_dtmf: Callable[[rtc.SipDTMF], None],
    ) -> None:
        """Subscribe: the room's tones to ``on_dtmf`` (``keypad``; from :meth:`ready` on),
        the session's states (``speech``)."""
        self._session = session
        if keypad:
            try:
                room = get_job_context().room
            except RuntimeError:
                _log.warning("no job context: keypad tones cannot reach the task")
            else:
                self._on_dtmf = on_dtmf
                self._tones = type_ahead(room)
                self._tones.attach(self._take, self._clock)
        if speech:
            self._agent = str(getattr(session, "agent_state", "listening"))
            self._user = str(getattr(session, "user_state", "listening"))
            session.on("agent_state_changed", self._on_agent_state)
            session.on("user_state_changed", self._on_user_state)
            self._listening = True

    def ready(self) -> None:
        """The task has started: tones kept since the last task ended reach it now."""
        if self._tones is not None:
            self._tones.ready(self._take)

    def _take(self, ev: rtc.SipDTMF) -> bool:
        if self._on_dtmf is None or not self._open():
            return False  # the task has ended: the tone is for the next one
        self._on_dtmf(ev)
        return True

    def close(self) -> None:
        """Unsubscribe from everything :meth:`listen` subscribed to."""
        if self._tones is not None:
            self._tones.detach(self._take)
        self._tones = self._on_dtmf = None
        if self._listening:
            self._session.off("agent_state_changed", self._on_agent_state)
            self._session.off("user_state_changed", self._on_user_state)
            self._listening = False

    def _quiet(self) -> bool:
        """Whether the no-input timer should run: no one holds the floor."""
        return self._agent not in _AGENT_BUSY and self._user != "speaking"

    def _on_agent_state(self, ev: AgentStateChangedEvent) -> None:
        was = self._quiet()
        self._agent = ev.new_state
        if was and not self._quiet():
            self._feed(AgentSpeaking(True))
        elif not was and self._quiet():
            self._feed(AgentSpeaking(False))

    def _on_user_state(self, ev: UserStateChangedEvent) -> None:
        was = self._quiet()
        self._user = ev.new_state
        if was and not self._quiet():
            self._feed(UserSpeaking())
        elif not was and self._quiet():  # the caller stopped and the agent is not busy
            self._feed(AgentSpeaking(False))
        if ev.new_state == "away":
            self._feed(UserAway())

    def dtmf(self, ev: rtc.SipDTMF) -> None:
        """Feed a tone from the caller; others are ignored (logged without the digit)."""
        if not self.from_caller(ev.participant):
            _log.info("dtmf_ignored", reason="not the caller")
            return
        outcome = self._feed(DtmfReceived(ev.digit))
        if not outcome.ok:
            _log.info("dtmf_rejected", reason=getattr(outcome, "message", ""), scrub=ev.digit)

    def from_caller(self, participant: rtc.RemoteParticipant | None) -> bool:
        """Whether a tone from ``participant`` is the caller's."""
        if participant is None:  # sent by a server SDK: no one to tell apart
            return True
        if self._caller is None:
            linked = _linked_participant(self._session)
            self._caller = linked.identity if linked is not None else participant.identity
        return participant.identity == self._caller


def _linked_participant(session: Any) -> rtc.RemoteParticipant | None:
    room_io = getattr(session, "_room_io", None)
    return getattr(room_io, "linked_participant", None) if room_io is not None else None
