"""The journal format: parsing its lines and splitting them into whole flows.

Rules of this file: text in, plain data out, no file is opened here (the
callers read the file); a line that is not a journal line, a flow cut short
and a count that does not match are each a ``ValueError`` naming the line.
Both the replay (:mod:`taskchart.runtime.replay`) and the coverage of the
diagrams (:mod:`taskchart.diagrams.coverage`) read journals through here.

A journal holds, per flow, a header ``{"format": ..., "chart": ...,
"digest": ..., "modality": ..., "values": "raw" | "redacted"}``, one line per
event (or bare events), and an end record ``{"end": N}`` counting them.

>>> flows = split_flows(parse_lines(['{"format": "taskchart.journal/2"}', '{"type": "UserSpoke"}', '{"end": 1}']))
>>> [len(f.entries) for f in flows]
[1]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from .fields import shown
from .task import MODALITIES, Modality

__all__ = ["FORMAT", "FORMATS", "MODALITIES", "RecordedFlow", "parse_lines", "split_flows"]

FORMAT = "taskchart.journal/2"
#: Formats read: ``/1`` journals have no end record.
FORMATS = ("taskchart.journal/1", FORMAT)


def parse_lines(
    lines: Iterable[str], *, unseal: Callable[[object], str] | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """JSON lines as ``(line number, object)``; ``ValueError`` naming the first bad line.

    A sealed line (``{"sealed": token}``, :mod:`taskchart.runtime.sealing`) is
    opened by ``unseal(token)``; without ``unseal`` it is a ``ValueError``
    asking for the journal's key.
    """
    out: list[tuple[int, dict[str, Any]]] = []
    for n, text in enumerate(lines, 1):
        if not text.strip():
            continue
        obj = _json_object(n, text)
        if len(obj) == 1 and "sealed" in obj:
            if unseal is None:
                raise ValueError(
                    f"line {n}: the journal is sealed: give its key (TASKCHART_KEYS, or "
                    "--key-file on the command line)"
                )
            try:
                opened = unseal(obj["sealed"])
            except ValueError as exc:
                raise ValueError(f"line {n}: cannot be opened: {exc}") from None
            obj = _json_object(n, opened)
        out.append((n, obj))
    return out


def _json_object(n: int, text: str) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {n}: not JSON: {exc.msg}") from exc
    except (RecursionError, ValueError) as exc:  # nested too deep, numbers too long
        raise ValueError(f"line {n}: not readable JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"line {n}: expected a JSON object")
    return obj


@attrs.frozen
class RecordedFlow:
    """One flow of a log: its header (None for bare events), entries and where it starts."""

    line: int
    header: Mapping[str, Any] | None
    entries: tuple[tuple[int, Mapping[str, Any]], ...]
    modality: Modality | None = None
    redacted: bool = False


def split_flows(entries: Iterable[tuple[int, Mapping[str, Any]]]) -> list[RecordedFlow]:
    """The flows of a log (from :func:`read_log`), checked to be whole; ``ValueError`` if not.

    A line that is neither a header, an event, a journal entry nor an end
    record means the file is not a journal; a flow whose end record is
    missing, or counts other entries than the flow holds, was cut short.
    """
    flows: list[RecordedFlow] = []
    current: dict[str, Any] | None = None

    def close(at: str) -> None:
        if current is None:
            return
        if current["needs_end"] and current["end"] is None:
            raise ValueError(
                f"the flow that starts at line {current['line']} has no end record {at}: "
                "the journal was cut short; record it again"
            )
        flows.append(
            RecordedFlow(
                current["line"],
                current["header"],
                tuple(current["entries"]),
                current["modality"],
                current["redacted"],
            )
        )

    for n, obj in entries:
        if "format" in obj:
            close(f"(line {n} starts another)")
            current = {"line": n, "entries": [], "end": None, **_header(n, obj)}
            continue
        if current is None:  # bare events, no header: nothing to check them against
            current = {"line": n, "header": None, "entries": [], "end": None}
            current.update(needs_end=False, modality=None, redacted=False)
        if current["end"] is not None:
            raise ValueError(
                f"line {n}: an entry after the end of the flow that starts at line "
                f"{current['line']}; each flow of a journal starts with a header"
            )
        if "end" in obj:
            count = obj["end"]
            have = len(current["entries"])
            if not isinstance(count, int) or isinstance(count, bool) or count != have:
                raise ValueError(
                    f"line {n}: the end record counts {shown(count, 20)} entries but the flow "
                    f"that starts at line {current['line']} holds {have}: lines are missing "
                    "or were added; record it again"
                )
            current["end"] = n
            continue
        if "event" not in obj and "type" not in obj:
            keys = ", ".join(shown(k, 30) for k in list(obj)[:5]) or "none"
            raise ValueError(
                f"line {n}: not a taskchart journal line (keys: {keys}); a journal holds a "
                "header, events and an end record, as dump_journal() writes"
            )
        current["entries"].append((n, obj))
    close("(the file ends there)")
    if not flows:
        raise ValueError(
            "is empty: a journal holds a header and the events of a flow; record one with "
            "Interpreter(chart, record=True) and dump_journal()"
        )
    return flows


def _header(n: int, obj: Mapping[str, Any]) -> dict[str, Any]:
    fmt = obj.get("format")
    if fmt not in FORMATS:
        raise ValueError(f"line {n}: unknown log format {shown(fmt, 40)}; expected {FORMAT}")
    values = obj.get("values", "raw")
    if values not in ("raw", "redacted"):
        raise ValueError(f"line {n}: values must be 'raw' or 'redacted'")
    modality = obj.get("modality")
    if modality is not None and modality not in MODALITIES:
        raise ValueError(f"line {n}: unknown modality {shown(modality, 40)}")
    return {
        "header": obj,
        "needs_end": fmt != FORMATS[0],
        "modality": modality,
        "redacted": values == "redacted",
    }
