"""Keypad type-ahead: tones the caller presses between two tasks go to the next one.

Rules of this file: one :class:`TypeAhead` per room (:func:`type_ahead`)
listens to its ``sip_dtmf_received`` from the first time a task of the call
takes tones, for as long as the room lives. It decides only who gets a tone:
the tasks listening now, or, when none of them takes it, the next task that
listens. Whether a tone counts (the caller's, a key the step expects) is the
listening task's business (:mod:`.call_events`).

Theory of operation: a task stops taking tones the moment it ends, and the
next one listens only once LiveKit has entered it; in between a durable
group saves, LiveKit switches activities, an agent says a sentence. LiveKit
drops the tones of that gap, so a fast caller who keys the menu choice right
after the PIN loses it. Here a listener is attached with the task's clock
(:meth:`TypeAhead.attach`) and says, tone by tone, whether its task still
takes tones; a tone that no attached listener takes is kept (at most
:data:`MAX_KEPT`, each for :data:`KEEP_SECONDS` on the clock of the task
that last listened). A new listener gets the kept tones, in order, when its
task has started (:meth:`TypeAhead.ready`: its prompt is asked), as if the
caller had pressed them then; until then live tones are kept too, so the
order holds.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Callable

from livekit import rtc
from taskchart.runtime import Clock
from taskchart.runtime.logs import get_logger

__all__ = ["KEEP_SECONDS", "MAX_KEPT", "TypeAhead", "type_ahead"]

_log = get_logger("taskchart.livekit.typeahead")

#: Seconds a tone no task took waits for the next task that takes tones.
KEEP_SECONDS = 5.0
#: Tones kept at most (the oldest go first).
MAX_KEPT = 32

#: A listener: takes a tone and says whether its task still takes tones (False: it ended).
Take = Callable[[rtc.SipDTMF], bool]

_BY_ROOM: weakref.WeakKeyDictionary[rtc.Room, TypeAhead] = weakref.WeakKeyDictionary()


def type_ahead(room: rtc.Room) -> TypeAhead:
    """The room's type-ahead buffer, subscribed to its tones on first use."""
    found = _BY_ROOM.get(room)
    if found is None:
        found = _BY_ROOM[room] = TypeAhead()
        room.on("sip_dtmf_received", found.on_dtmf)  # the room holds it, not the reverse
    return found


class TypeAhead:
    """Hand each tone to the listening tasks, or keep it for the next one."""

    def __init__(self) -> None:
        self._live: list[Take] = []
        self._starting: list[Take] = []
        self._kept: deque[tuple[Clock, float, rtc.SipDTMF]] = deque(maxlen=MAX_KEPT)
        self._clock: Clock | None = None

    def attach(self, take: Take, clock: Clock) -> None:
        """A task listens from now on; it gets tones once :meth:`ready`."""
        self._starting.append(take)
        self._clock = clock

    def ready(self, take: Take) -> None:
        """The task has started: hand it the kept tones, in order, then live ones."""
        if take not in self._starting:
            return
        self._starting.remove(take)
        self._live.append(take)
        kept, self._kept = list(self._kept), deque(maxlen=MAX_KEPT)
        stale = 0
        for clock, at, event in kept:
            if clock.now() - at > KEEP_SECONDS:
                stale += 1
            elif not self._deliver(event):
                self._keep(event)
        if stale:
            _log.info("dtmf_dropped", reason="kept too long", count=stale)

    def detach(self, take: Take) -> None:
        """The task listens no more."""
        for listeners in (self._starting, self._live):
            if take in listeners:
                listeners.remove(take)

    def on_dtmf(self, event: rtc.SipDTMF) -> None:
        """A tone from the room: to the listening tasks, else kept."""
        if self._starting or not self._deliver(event):
            self._keep(event)

    def _deliver(self, event: rtc.SipDTMF) -> bool:
        taken = False
        for take in list(self._live):
            taken = take(event) or taken
        return taken

    def _keep(self, event: rtc.SipDTMF) -> None:
        if self._clock is None:  # no task of the call has taken tones yet
            return
        if len(self._kept) == MAX_KEPT:
            _log.info("dtmf_dropped", reason="too many kept")
        self._kept.append((self._clock, self._clock.now(), event))
