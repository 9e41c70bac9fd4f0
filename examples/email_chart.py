"""An email task as a declarative chart: read back and confirmed when spoken."""

from __future__ import annotations

from dataclasses import dataclass

from taskchart.statecharts import Confirmation, Field, declarative_task
from taskchart.statecharts.spoken import normalize_spoken_email


@dataclass
class EmailResult:
    email_address: str


email_spec = declarative_task(
    "email",
    EmailResult,
    fields=[Field("email_address", normalize=normalize_spoken_email, pii=True)],
    confirmation=Confirmation.AUDIO_ONLY,
    subject="email address",
    instructions="Ask for the caller's email address.",
)
