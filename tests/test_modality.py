"""Modality is one Literal type the API speaks; what comes from outside is checked."""

from __future__ import annotations

from typing import Literal, get_args, get_type_hints

import pytest
from taskchart.runtime import Interpreter, ModalitySet, Rejected, UserSpoke
from taskchart.runtime.replay import dump_journal, replay_flow
from taskchart.runtime.standins import value_blind_flow
from taskchart.statecharts.journal import RecordedFlow
from taskchart.statecharts.task import MODALITIES, Confirmation, Modality, is_modality


def test_modality_is_the_literal_of_the_two_modalities() -> None:
    assert Modality == Literal["text", "audio"]
    assert MODALITIES == get_args(Modality) == ("text", "audio")


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (UserSpoke, Modality),
        (ModalitySet, Modality),
        (Interpreter.__init__, Modality),
        (Confirmation.required, Modality),
        (value_blind_flow, Modality),
        (RecordedFlow, Modality | None),
        (replay_flow, Modality | None),
        (dump_journal, Modality | None),
    ],
)
def test_the_api_takes_a_modality_not_any_text(where: object, expected: object) -> None:
    assert get_type_hints(where)["modality"] == expected


def test_the_livekit_task_takes_a_modality() -> None:
    chart_task = pytest.importorskip("taskchart.adapters.livekit.chart_task")
    assert get_type_hints(chart_task.ChartTask.__init__)["modality"] == Modality | None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", True),
        ("audio", True),
        ("video", False),
        ("AUDIO", False),
        ("", False),
        (None, False),
    ],
)
def test_is_modality_checks_text_from_outside(value: object, expected: bool) -> None:
    assert is_modality(value) is expected


def test_an_event_from_outside_with_another_modality_is_still_refused() -> None:
    from taskchart.adapters.console.interview import interview_chart

    flow = Interpreter(interview_chart())
    flow.start()
    for event in (UserSpoke("hi", "video"), ModalitySet("VIDEO")):  # type: ignore[arg-type]
        outcome = flow.handle(event)
        assert isinstance(outcome, Rejected)
        assert (outcome.code, outcome.message) == (
            "invalid_argument",
            "modality must be 'text' or 'audio'",
        )
    assert flow.model.modality == "text"
