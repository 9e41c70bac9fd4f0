"""Shared fixtures and hypothesis profiles.

Profiles: ``ci`` (derandomized, 200 examples; chosen when ``CI`` is set),
``dev`` (the default) and ``nightly`` (2,000 examples):
``HYPOTHESIS_PROFILE=nightly python -m pytest``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from hypothesis import settings
from taskchart.runtime import Interpreter
from taskchart.statecharts import Confirmation, Field, TaskSpec, compile_chart, declarative_task

settings.register_profile("ci", derandomize=True, max_examples=200, deadline=None)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("nightly", max_examples=2000, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@dataclass
class EmailResult:
    email_address: str


def make_email_task(confirmation: Confirmation = Confirmation.AUDIO_ONLY) -> TaskSpec:
    from taskchart.statecharts.spoken import normalize_spoken_email

    return declarative_task(
        "email",
        EmailResult,
        fields=[Field("email_address", normalize=normalize_spoken_email, pii=True)],
        confirmation=confirmation,
        subject="email address",
    )


def email_flow(
    confirmation: Confirmation = Confirmation.AUDIO_ONLY, modality: str = "text"
) -> Interpreter:
    """A started flow of :func:`make_email_task`."""
    flow = Interpreter(compile_chart(make_email_task(confirmation)), modality=modality)
    flow.start()
    return flow


@pytest.fixture
def email_task() -> TaskSpec:
    return make_email_task()
