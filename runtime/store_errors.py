"""What a store raises, and how errors and logs name a stored flow (never by its id)."""

from __future__ import annotations

import hashlib

__all__ = [
    "ChartChanged",
    "CorruptRecord",
    "LeaseHeld",
    "RecordError",
    "SaveFailed",
    "StaleWrite",
    "StoreError",
    "StoreUnavailable",
    "VersionMismatch",
    "flow_ref",
]


class StoreError(Exception):
    """A store refused or failed an operation."""


class StoreUnavailable(StoreError):
    """The store cannot be reached (the flow goes on in memory)."""


class StaleWrite(StoreError):
    """A save expected an older sequence number: another worker wrote the flow since."""


class SaveFailed(StoreError):
    """A save failed for another reason than the store (e.g. a state that is not JSON):
    the flow's latest state was not stored and the flow takes no more events."""


class LeaseHeld(StoreError):
    """Another worker holds the flow's lease."""


class RecordError(StoreError):
    """A stored record that cannot be resumed; nothing was restored."""


class CorruptRecord(RecordError):
    """A stored record that is not a record (torn, edited, or sealed with other keys)."""


class VersionMismatch(RecordError):
    """A record of another application version, with no migration to this one."""


class ChartChanged(RecordError):
    """A record saved by a chart that differs from the current one (the message says how)."""

    def __init__(self, flow_id: str, what: list[str]) -> None:
        super().__init__(
            f"stored flow {flow_ref(flow_id)} no longer fits the chart: {'; '.join(what)}"
        )
        self.changes = what


def flow_ref(flow_id: str) -> str:
    """What logs and errors show of a flow id (it may name the caller): a short hash,
    in letters only (digits in logs read as personal data and are redacted)."""
    return hashlib.sha256(flow_id.encode()).hexdigest()[:12].translate(_NO_DIGITS)


_NO_DIGITS = str.maketrans("0123456789", "ghijklmnop")  # logs redact runs of digits
