"""Structured logs of every transition, with personal data redacted.

Every record the runtime and the adapters write goes through one
:class:`RedactingLogger`, which redacts it *before* it reaches structlog or
the standard library, so no processor chain and no log level can show what
it removed. Fields keep their names; values are redacted:

- fields that hold personal data whatever the task (:data:`PERSONAL_KEYS`:
  keypad digits, task results, user speech) and the flow's ``pii`` fields,
  at any depth, become ``[redacted]``;
- objects other than plain data (a task's result dataclass, say) show only
  their type; exceptions show their type and redacted text;
- text loses emails, card numbers and runs of four or more digits, and
  values the call site names as personal (``scrub=``).

:func:`redact_processor` is also offered for an application's own structlog chain.

>>> redact_text("mail john.doe@gmail.com, card 4111 1111 1111 1111, pin 4242")
'mail [email], card [card], pin [digits]'
>>> redact_fields({"args": {"values": {"email": "a@b.co", "ok": True}}, "digit": "7"}, {"email"})
{'args': {'values': {'email': '[redacted]', 'ok': True}}, 'digit': '[redacted]'}
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, MutableMapping
from typing import Any

import attrs

__all__ = [
    "PERSONAL_KEYS",
    "REDACTED",
    "RedactingLogger",
    "get_logger",
    "info_enabled",
    "personal_values",
    "redact_fields",
    "redact_mapping",
    "redact_processor",
    "redact_text",
    "redact_value",
    "scrub",
]

REDACTED = "[redacted]"

#: Fields whose values are personal in any record: keypad keys, task results
#: (a card, an email...), what the user said, a tool's raw arguments.
PERSONAL_KEYS = frozenset(
    {"digit", "digits", "keys", "result", "results", "text", "arguments", "repeated_value"}
)

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


def scrub(text: str, values: Iterable[str] = ()) -> str:
    """``text`` without any of ``values`` (whole words of two characters or more), redacted."""
    for value in sorted({v for v in values if len(v) >= 2}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", REDACTED, text)
    return redact_text(text)


def personal_values(value: Any, limit: int = 200) -> list[str]:
    """The text of every leaf of ``value`` (mappings, sequences, dataclasses), for :func:`scrub`."""
    out: list[str] = []
    stack = [value]
    while stack and len(out) < limit:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item.strip())
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int | float):
            out.append(_number_text(item))
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        elif attrs.has(type(item)):
            stack.extend(getattr(item, a.name) for a in attrs.fields(type(item)))
        elif not isinstance(item, BaseException | type) and hasattr(item, "__dict__"):
            stack.extend(vars(item).values())  # TaskGroupResult and other plain objects
    return out


def _number_text(number: int | float) -> str:
    try:
        return str(number)
    except ValueError:  # an int past Python's digit limit
        return ""


def redact_fields(
    fields: Mapping[str, Any], personal: Collection[str] = (), scrubbed: Iterable[str] = ()
) -> dict[str, Any]:
    """A record's fields as logs may show them (see the module docs)."""
    keys = PERSONAL_KEYS | frozenset(personal)
    words = tuple(scrubbed)
    return {k: _field(k, v, keys, words, 0) for k, v in fields.items()}


def _field(key: Any, value: Any, keys: frozenset[str], words: tuple[str, ...], depth: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if key in keys:
        return REDACTED
    if isinstance(value, str):
        return scrub(value, words)
    if isinstance(value, int | float):
        text = _number_text(value)
        return value if text and scrub(text, words) == text else "[digits]"
    if depth > 8:
        return REDACTED
    if isinstance(value, Mapping):
        return {k: _field(k, v, keys, words, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [_field(None, v, keys, words, depth + 1) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, BaseException):
        try:
            text = str(value)
        except Exception:  # a broken __str__
            text = ""
        return f"{type(value).__name__}: {scrub(text, words)}".rstrip(": ")
    return f"<{type(value).__name__}>"  # a result object: its type, never its content


def _at_level(method: str) -> Callable[..., Any]:
    """The :class:`RedactingLogger` method that logs through ``logger.<method>``."""

    def log(self: RedactingLogger, event: Any = None, *args: Any, **fields: Any) -> Any:
        return self._emit(method, event, args, fields)

    log.__name__, log.__qualname__ = method, f"RedactingLogger.{method}"
    return log


class RedactingLogger:
    """Wrap ``logger`` (structlog or standard-library style) so no record shows personal data.

    Every method redacts the event text and the fields (:func:`redact_fields`)
    before calling ``logger``; ``personal`` names more fields to redact
    whole, and the keyword ``scrub`` takes values (text) to remove wherever
    they appear in the record. ``exc_info`` and ``stack_info`` are dropped: a
    traceback quotes values.
    """

    __slots__ = ("_check", "_logger", "_personal")
    _logger: Any
    _personal: frozenset[str]

    def __init__(self, logger: Any, personal: Collection[str] = ()) -> None:
        if isinstance(logger, RedactingLogger):
            personal = logger._personal | frozenset(personal)
            logger = logger._logger
        self._logger = logger
        self._personal = PERSONAL_KEYS | frozenset(personal)
        # asked on every event: look the check up once
        self._check = getattr(logger, "is_enabled_for", None) or getattr(
            logger, "isEnabledFor", None
        )

    @property
    def personal(self) -> frozenset[str]:
        """Field names whose values are always redacted."""
        return self._personal

    def bind(self, **fields: Any) -> RedactingLogger:
        return RedactingLogger(self._logger.bind(**redact_fields(fields, self._personal)), ())

    def is_enabled_for(self, level: int) -> bool:
        check = self._check
        if check is None:
            return True
        try:
            return bool(check(level))
        except Exception:  # an unusual logger: assume it wants the record
            return True

    def _emit(self, method: str, event: Any, args: tuple[Any, ...], fields: dict[str, Any]) -> Any:
        words = personal_values(fields.pop("scrub", ()))
        fields.pop("exc_info", None)
        fields.pop("stack_info", None)
        text = (
            scrub(event, words)
            if isinstance(event, str)
            else _field(None, event, self._personal, tuple(words), 0)
        )
        clean_args = tuple(_field(None, a, self._personal, tuple(words), 0) for a in args)
        return getattr(self._logger, method)(
            text, *clean_args, **redact_fields(fields, self._personal, words)
        )

    debug = _at_level("debug")
    info = _at_level("info")
    warning = warn = _at_level("warning")
    error = exception = _at_level("error")
    critical = _at_level("critical")


def redact_processor(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor that redacts every value of the event dict."""
    for key, value in list(event_dict.items()):
        if key != "event":
            event_dict[key] = redact_value(value)
    return event_dict


def get_logger(name: str = "taskchart", *, personal: Collection[str] = ()) -> RedactingLogger:
    """The logger the runtime writes to, redacting every record (see :class:`RedactingLogger`).

    When the application configured structlog, records go to its logger.
    Otherwise they go, as JSON, to the standard-library logger ``name``, so a
    library that nobody configured prints nothing below WARNING; structlog
    (whose import loads rich and pygments when they are installed) is
    imported only when such a record passes the logger's level.
    ``personal`` names more fields whose values are never shown.
    """
    structlog = sys.modules.get("structlog")  # an application that configured it imported it
    if structlog is not None and structlog.is_configured():
        return RedactingLogger(structlog.get_logger(name).bind(), personal)
    return RedactingLogger(_StdlibJSON(logging.getLogger(name)), personal)


_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


class _StdlibJSON:
    """structlog's JSON rendering onto a standard-library logger, built on the first
    record the logger's level lets through."""

    __slots__ = ("_context", "_logger")

    def __init__(self, logger: logging.Logger, context: Mapping[str, Any] | None = None) -> None:
        self._logger = logger
        self._context = dict(context or {})

    def bind(self, **fields: Any) -> _StdlibJSON:
        return _StdlibJSON(self._logger, {**self._context, **fields})

    def isEnabledFor(self, level: int) -> bool:
        return self._logger.isEnabledFor(level)

    def __getattr__(self, method: str) -> Callable[..., Any]:
        level = _LEVELS.get(method)
        if level is None:
            raise AttributeError(method)

        def emit(event: Any = None, *args: Any, **fields: Any) -> Any:
            if not self._logger.isEnabledFor(level):
                return None
            bound = _structlog_logger(self._logger.name).bind(**self._context)
            return getattr(bound, method)(event, *args, **fields)

        return emit


def _structlog_logger(name: str) -> Any:
    logger = _UNCONFIGURED.get(name)
    if logger is None:  # its setup is fixed, so one per name serves every flow
        import structlog

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


def info_enabled(logger: Any, level: int = logging.INFO) -> bool:
    """Whether ``logger`` would emit at ``level`` (so log arguments are worth building)."""
    return RedactingLogger(logger).is_enabled_for(level)
