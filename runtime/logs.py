"""Structured logs of every transition, with personal data redacted.

Redaction happens before a record reaches structlog, so it holds whatever
processors the application configures. :func:`redact_processor` is also
offered for an application's own structlog chain.

>>> redact_text("mail john.doe@gmail.com, card 4111 1111 1111 1111, pin 4242")
'mail [email], card [card], pin [digits]'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping, MutableMapping
from typing import Any

import structlog

__all__ = [
    "get_logger",
    "info_enabled",
    "redact_mapping",
    "redact_processor",
    "redact_text",
    "redact_value",
]

_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_DIGITS = re.compile(r"(?:\d[\s\-.]?){3,}\d")
_PII_CHARS = re.compile(r"[@\d]")


def redact_text(text: str) -> str:
    """Replace emails, card numbers and runs of four or more digits."""
    if not _PII_CHARS.search(text):
        return text
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub("[card]", text)
    return _DIGITS.sub("[digits]", text)


def redact_value(value: Any) -> Any:
    """Redact strings inside ``value`` (nested lists and mappings included)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def redact_mapping(data: Mapping[str, Any], pii_keys: Collection[str] = ()) -> dict[str, Any]:
    """Redact a mapping; values under ``pii_keys`` are replaced whole."""
    return {
        k: ("[redacted]" if k in pii_keys and v is not None else redact_value(v))
        for k, v in data.items()
    }


def redact_processor(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor that redacts every value of the event dict."""
    for key, value in list(event_dict.items()):
        if key != "event":
            event_dict[key] = redact_value(value)
    return event_dict


def get_logger(name: str = "taskchart") -> Any:
    """The logger the runtime writes to.

    When the application configured structlog, this is its logger. Otherwise
    records go, redacted and as JSON, to the standard-library logger ``name``,
    so a library that nobody configured prints nothing below WARNING.
    """
    if structlog.is_configured():
        return structlog.get_logger(name).bind()
    logger = _UNCONFIGURED.get(name)
    if logger is None:  # its setup is fixed, so one per name serves every flow
        logger = _UNCONFIGURED[name] = structlog.wrap_logger(
            logging.getLogger(name),
            processors=[
                structlog.stdlib.filter_by_level,
                redact_processor,
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.processors.JSONRenderer(default=repr),
            ],
            wrapper_class=structlog.stdlib.BoundLogger,
        ).bind()
    return logger


_UNCONFIGURED: dict[str, Any] = {}


def info_enabled(logger: Any) -> bool:
    """Whether ``logger`` would emit at INFO (so log arguments are worth building)."""
    check = getattr(logger, "is_enabled_for", None) or getattr(logger, "isEnabledFor", None)
    if check is None:
        return True
    try:
        return bool(check(logging.INFO))
    except Exception:  # an unusual logger: assume it wants the record
        return True
