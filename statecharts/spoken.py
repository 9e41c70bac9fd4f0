"""Normalisers for values a caller speaks aloud.

Speech-to-text engines and language models pass spoken forms such as
"john dot doe at gmail dot com" or "four oh five". The functions here turn
them into clean values, or raise ``ValueError`` with a message the model can
relay or act on. They are pure and suitable as ``Field(normalize=...)``.

>>> normalize_spoken_email("john dot doe at gmail dot com")
'john.doe@gmail.com'
>>> spoken_digits("double five, star")
'55*'
>>> parse_yes_no("no that's not right")
False
"""

from __future__ import annotations

import functools
import re
import unicodedata

from taskchart.statecharts.spoofing import mixed_scripts
from text_to_num import alpha2digit, text2num  # type: ignore[import-untyped,unused-ignore]

__all__ = [
    "MAX_EMAIL_INPUT_LENGTH",
    "normalize_spoken_email",
    "parse_yes_no",
    "spoken_digits",
    "strip_filler",
]

#: Longest spoken email text accepted; longer input is rejected unread.
MAX_EMAIL_INPUT_LENGTH = 320

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_EDGE_PUNCTUATION = ' \t\r\n\f\v.,!?;:\u2026"\u201c\u201d'

_FILLER = re.compile(
    r"(?:u+m+|u+h+|e+r+m+|well|so|like|ok(?:ay)?[\s,]+so)(?=[\s,.!?;:\u2026]|$)[\s,.!?;:\u2026-]*",
    re.IGNORECASE,
)


def _require_text(text: object, what: str) -> str:
    if isinstance(text, str):
        return text
    raise ValueError(f"Expected {what} as text, got {type(text).__name__}.")


def strip_filler(text: str) -> str:
    """Remove leading fillers ("um", "uh", "erm", "well", "so", "like", "okay so").

    Surrounding whitespace and punctuation are stripped as well.

    >>> strip_filler("Um, well, yes.")
    'yes'
    """
    text = _require_text(text, "an utterance").translate(_APOSTROPHES)
    pos = len(text) - len(text.lstrip(_EDGE_PUNCTUATION))
    while match := _FILLER.match(text, pos):
        pos = match.end()
    return text[pos:].strip(_EDGE_PUNCTUATION)


# --- email -------------------------------------------------------------------

_EMAIL_LEAD = re.compile(
    r"(?:(?:my|the|our)\s+)?e[\s-]?mail(?:\s+address)?\s*(?:is\b|would\s+be\b|:)\s*"
    r"|(?:it|that|this)(?:'s|\s+is)\s+"
    r"|mailto:\s*",
    re.IGNORECASE,
)
_ANGLE = re.compile(r"<([^<>]*)>")
_SPELLED_WITH_HYPHENS = re.compile(r"[^\W\d_](?:-[^\W\d_])+")
_EMAIL_PHRASES: dict[tuple[str, ...], str] = {
    ("at", "the", "rate"): "@",
    ("at", "sign"): "@",
    ("at", "symbol"): "@",
    ("under", "score"): "_",
    ("full", "stop"): ".",
}
_PHRASES_BY_FIRST: dict[str, list[tuple[tuple[str, ...], str]]] = {}
for _phrase, _symbol in _EMAIL_PHRASES.items():
    _PHRASES_BY_FIRST.setdefault(_phrase[0], []).append((_phrase, _symbol))
_PLAIN_EMAIL = re.compile(r"[^\s<>:@,]+@[^\s<>:@,]+")
_EMAIL_WORDS: dict[str, str] = {
    "at": "@",
    "dot": ".",
    "period": ".",
    "point": ".",
    "dash": "-",
    "hyphen": "-",
    "underscore": "_",
    "plus": "+",
}


def _spoken_email_candidate(text: str) -> str:
    text = strip_filler(text)
    if angle := _ANGLE.search(text):
        text = angle.group(1).strip(_EDGE_PUNCTUATION)
    while match := _EMAIL_LEAD.match(text):
        text = text[match.end() :].strip(_EDGE_PUNCTUATION)
    text = alpha2digit(text.replace(",", " ").strip(_EDGE_PUNCTUATION), "en")
    tokens = str(text).split()
    lowered = [t.lower() for t in tokens]
    parts: list[str] = []
    i = 0
    while i < len(tokens):
        for phrase, symbol in _PHRASES_BY_FIRST.get(lowered[i], ()):
            if tuple(lowered[i : i + len(phrase)]) == phrase:
                parts.append(symbol)
                i += len(phrase)
                break
        else:
            token = tokens[i]
            if _SPELLED_WITH_HYPHENS.fullmatch(token):
                token = token.replace("-", "")
            parts.append(_EMAIL_WORDS.get(lowered[i], token))
            i += 1
    return "".join(parts)


def normalize_spoken_email(text: str) -> str:
    """Return the normalised email address a caller spoke or typed.

    Spoken separators ("at", "dot", "underscore", "dash", "plus"), letters
    spelled one by one, number words, lead-ins such as "my email is", angle
    brackets and ``mailto:`` are handled. The result is validated (syntax
    only, no DNS) and normalised by ``email-validator``, which lowercases the
    domain and keeps the local part's case.

    >>> normalize_spoken_email("jane underscore smith at example dot co dot uk")
    'jane_smith@example.co.uk'
    """
    text = _require_text(text, "an email address")
    return _normalize_email(text)


@functools.lru_cache(maxsize=4096)
def _normalize_email(text: str) -> str:
    """The work of :func:`normalize_spoken_email`, memoised (email validation costs ~80 µs)."""
    if len(text) > MAX_EMAIL_INPUT_LENGTH:
        raise ValueError(
            f"The email address text is too long ({len(text)} characters, at most "
            f"{MAX_EMAIL_INPUT_LENGTH}). Ask the user to say just the address."
        )
    if not text.strip():
        raise ValueError("No email address was given (the text is empty). Ask the user for it.")
    plain = text.strip().rstrip(_EDGE_PUNCTUATION)
    if _PLAIN_EMAIL.fullmatch(plain):  # already written out: nothing spoken to convert
        candidate = plain
    else:
        candidate = _spoken_email_candidate(text.translate(_APOSTROPHES))
    from email_validator import EmailNotValidError, validate_email  # loaded on first use

    try:
        valid = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        reason = str(exc).rstrip()
        if not reason.endswith("."):
            reason += "."
        raise ValueError(
            f"That is not a valid email address: {reason} Ask the user to spell it."
        ) from None
    for part, what in ((valid.local_part, "name before the @"), (valid.domain, "domain")):
        scripts = mixed_scripts(part)
        if scripts is not None:
            raise ValueError(
                f"The email's {what} mixes {' and '.join(scripts)} letters, as look-alike "
                "addresses do, and no read-back can reveal it. Ask the user to spell it letter "
                "by letter."
            )
    return valid.normalized


# --- yes / no ----------------------------------------------------------------

_UNSURE = re.compile(
    r"\b(?:not\s+sure|unsure|maybe|perhaps|(?:don't|do\s+not)\s+know|dunno|no\s+idea)\b"
)
_NO = re.compile(r"\b(?:no|nope|nah|not|never|negative|wrong|incorrect|cannot|can\s+not|\w+n't)\b")
_YES = re.compile(
    r"\b(?:yes|yeah|yea|yep|yup|sure|correct|right|ok|okay|alright|affirmative|absolutely"
    r"|definitely|certainly|exactly|of\s+course|i\s+(?:can|do|will)|go\s+ahead|uh[\s-]huh)\b"
)


def parse_yes_no(text: str) -> bool | None:
    """Return True for a yes-like answer, False for a no-like one, None if unclear.

    Matching is by whole word and case-insensitive; a negation wins over a
    yes word ("no that's not right" is False), and hedges such as "not sure"
    or "I don't know" are unclear.

    >>> parse_yes_no("Yeah, that's right"), parse_yes_no("I can't"), parse_yes_no("hmm")
    (True, False, None)
    """
    text = _require_text(text, "a yes or no answer").translate(_APOSTROPHES).lower()
    if _UNSURE.search(text):
        return None
    if _NO.search(text):
        return False
    if _YES.search(text):
        return True
    return None


# --- digits ------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W\d_]+|\d|[*#]")
_UNITS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_ZERO_LETTERS = frozenset({"oh", "o"})
_TEENS = frozenset(
    {"ten", "eleven", "twelve", "thirteen", "fourteen"}
    | {"fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
)
_TENS = frozenset({"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"})
_SCALES = frozenset({"hundred", "thousand"})
_REPEATS = {"double": 2, "triple": 3}
_SYMBOLS = {"*": "*", "star": "*", "asterisk": "*", "#": "#", "pound": "#", "hash": "#"}


def _is_numeric(token: str) -> bool:
    return (
        token.isdecimal()
        or token in _UNITS
        or token in _TEENS
        or token in _TENS
        or token in _REPEATS
    )


def _resolve_oh(tokens: list[str]) -> list[str]:
    """Read "oh" / "o" as zero when the nearest other word on either side is numeric."""
    near_left = [False] * len(tokens)
    near_right = [False] * len(tokens)
    flag = False
    for i, token in enumerate(tokens):
        near_left[i] = flag
        flag = flag if token in _ZERO_LETTERS else _is_numeric(token)
    flag = False
    for i in range(len(tokens) - 1, -1, -1):
        near_right[i] = flag
        flag = flag if tokens[i] in _ZERO_LETTERS else _is_numeric(tokens[i])
    return [
        "zero" if token in _ZERO_LETTERS and (near_left[i] or near_right[i]) else token
        for i, token in enumerate(tokens)
    ]


def _number_phrase(tokens: list[str], start: int) -> int:
    """Return the end of the number phrase at ``start`` ("nine hundred and eleven").

    A single digit word directly after "hundred" / "thousand" is left out, so
    "eight hundred five five five" reads as 800 then 5, 5, 5.
    """
    end, prev = start + 1, "tens" if tokens[start] in _TENS else "word"
    seen: set[str] = set()
    while end < len(tokens):
        token = tokens[end]
        after = tokens[end + 1] if end + 1 < len(tokens) else ""
        nonzero_unit = token in _UNITS and token != "zero"
        if token in _SCALES and prev != "scale" and token not in seen:
            seen.add(token)
            prev = "scale"
        elif prev == "tens" and nonzero_unit:
            prev = "word"
        elif prev in ("scale", "and") and (token in _TEENS or token in _TENS):
            prev = "tens" if token in _TENS else "word"
        elif (
            prev == "scale"
            and token == "and"
            and (after in _TEENS or after in _TENS or (after in _UNITS and after != "zero"))
        ):
            prev = "and"
        elif nonzero_unit and (
            prev == "and" or (prev == "scale" and after == "hundred" and after not in seen)
        ):
            prev = "word"
        else:
            break
        end += 1
    return end


def _starts_number_phrase(tokens: list[str], i: int) -> bool:
    token = tokens[i]
    after = tokens[i + 1] if i + 1 < len(tokens) else ""
    return (
        token in _TEENS
        or token in _TENS
        or (token in _UNITS and token != "zero" and after in _SCALES)
    )


def spoken_digits(text: str) -> str:
    """Return only the digits, ``*`` and ``#`` a caller said or typed.

    Digit words stay separate digits ("four one five" is "415"); "oh" is zero
    next to other digits; "double" / "triple" repeat the next digit; "star" is
    ``*`` and "pound" / "hash" are ``#``. Compound numbers are read as numbers
    ("twenty three" is "23", "nine hundred and eleven" is "911"), and a
    hundred or thousand followed by single digits is read as in phone numbers
    ("one eight hundred five five five" is "1800555").

    >>> spoken_digits("four oh five, triple seven")
    '405777'
    """
    text = _require_text(text, "digits")
    tokens = _resolve_oh(_TOKEN.findall(text.lower()))
    out: list[str] = []
    repeat = 1
    i = 0
    while i < len(tokens):
        token, chunk = tokens[i], ""
        if token in _REPEATS:
            repeat = _REPEATS[token]
            i += 1
            continue
        if token.isdecimal():
            chunk = str(unicodedata.decimal(token))
        elif token in _SYMBOLS:
            chunk = _SYMBOLS[token]
        elif _starts_number_phrase(tokens, i):
            end = _number_phrase(tokens, i)
            chunk = str(text2num(" ".join(tokens[i:end]), "en"))
            i = end - 1
        elif token in _UNITS:
            chunk = _UNITS[token]
        out.append(chunk * repeat)
        repeat = 1
        i += 1
    digits = "".join(out)
    if not digits:
        raise ValueError(
            "No digits found in what was given. Ask the user to say the digits again, "
            "one at a time."
        )
    return digits
