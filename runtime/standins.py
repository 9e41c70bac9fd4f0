"""Replaying a redacted journal: recorded outcomes stand in for the values.

A redacted journal (:mod:`taskchart.runtime.private`) has ``"[redacted]"``
where a personal value was. Replay cannot check such a value again, but the
recording says what the value decided. :func:`value_blind_flow` runs the
same transition table with the chart's personal fields made value-blind:

- a redacted value is valid, unless the recorded outcome refused the event
  for its arguments (``invalid_argument``); a task's cross-field check
  (``validate``) defers to the recording the same way;
- a repetition matches when the recorded step says it did;
- results and read-backs built from personal values are ``"[redacted]"``.

Everything else (which tools are enabled, guards on turns and counts, the
keypad's key count and stop key, regressions, history, timers) runs as in
the live flow, so a chart that changed since the call still diverges.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from taskchart.statecharts import Chart, TaskSpec
from taskchart.statecharts.model import FlowModel
from taskchart.statecharts.task import Modality

from .interpreter import Interpreter
from .logs import REDACTED
from .private import personal_fields

__all__ = ["Recording", "StandIn", "value_blind_flow"]


class StandIn(str):
    """A personal value replay does not know: it is ``"[redacted]"``."""

    __slots__ = ()


class Recording:
    """The recorded entry of the event being replayed (``None`` for a bare event)."""

    def __init__(self) -> None:
        self.entry: Mapping[str, Any] | None = None

    @property
    def refused_values(self) -> bool:
        """The recording refused the event for its arguments."""
        entry = self.entry
        return entry is not None and not entry.get("ok") and entry.get("code") == "invalid_argument"

    @property
    def repetition_matched(self) -> bool:
        """The recording says the repeated value matched the stored one."""
        entry = self.entry
        if entry is None:
            return True
        if not entry.get("ok"):
            return False
        step = entry.get("step")
        guards = step.get("guards") if isinstance(step, Mapping) else None
        return not isinstance(guards, Mapping) or guards.get("repetition_matches") is not False


class _BlindModel(FlowModel):
    recording: Recording

    def repetition_matches(self, task_id: str, repeated: Mapping[str, Any] | None) -> bool:
        have = self.values[task_id]
        items = (repeated or {}).items()
        if any(isinstance(v, StandIn) or isinstance(have.get(k), StandIn) for k, v in items):
            return bool(repeated) and self.recording.repetition_matched
        return super().repetition_matches(task_id, repeated)


def _stand_in(recording: Recording) -> Callable[[Any], StandIn]:
    def normalize(_: Any) -> StandIn:
        if recording.refused_values:
            raise ValueError("refused when it was recorded")
        return StandIn(REDACTED)

    return normalize


def _blind_spec(spec: TaskSpec, recording: Recording) -> TaskSpec:
    personal = personal_fields(spec)
    if spec.kind != "declarative" or not personal:
        return spec
    fields = tuple(
        attrs.evolve(f, type=str, normalize=_stand_in(recording), allow_empty=True, schema=None)
        if f.name in personal
        else f
        for f in spec.fields
    )

    def known(values: Mapping[str, Any]) -> bool:
        return not any(values.get(name) is not None for name in personal)

    validate, readback, result = spec.validate, spec.readback, spec.result

    def blind_validate(values: dict[str, Any]) -> dict[str, Any]:
        if known(values):
            return validate(values) if validate is not None else values
        if recording.refused_values:
            raise ValueError("refused when it was recorded")
        return values

    def blind_readback(values: Mapping[str, Any]) -> str:
        if known(values) and readback is not None:
            return readback(values)
        return f"Read the {spec.label} back to the user and ask them to confirm."

    def blind_result(**values: Any) -> Any:
        if known(values):
            return result(**values) if result is not None else dict(values)
        return REDACTED

    return attrs.evolve(
        spec,
        fields=fields,
        validate=blind_validate if validate is not None else None,
        readback=blind_readback,
        result=blind_result,
    )


def value_blind_flow(chart: Chart, *, modality: Modality = "text") -> tuple[Interpreter, Recording]:
    """A fresh flow of ``chart`` for a redacted journal, and the recording it defers to."""
    recording = Recording()
    tasks = tuple(_blind_spec(t, recording) for t in chart.tasks)
    blind = Chart.from_table(
        chart.name,
        tasks,
        chart.states,
        chart.transitions,
        return_exceptions=chart.return_exceptions,
        group=chart.group,
        strict=chart.strict,
    )
    model = _BlindModel(blind.tasks, return_exceptions=blind.return_exceptions)
    model.recording = recording
    machine = blind.new_machine(model)
    model.modality = modality
    return Interpreter(blind, modality=modality, _machine=machine), recording
