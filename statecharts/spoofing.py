"""Text that reads one way and is another: invisible characters and mixed scripts.

Nothing a caller hears can reveal a right-to-left override, a zero-width
space, a Unicode tag character (which some models read as hidden
instructions) or a Cyrillic a (U+0430) in a Latin domain. The checks here find them
with Unicode's own data: the ``regex`` package's character properties
(``Default_Ignorable_Code_Point``, ``Extended_Pictographic``, ``Script``) and
the ``idna`` package's IDNA 2008 joiner rules (RFC 5892 CONTEXTJ).

>>> invisible_character("Ada\\u202eLovelace")
'U+202E RIGHT-TO-LEFT OVERRIDE'
>>> invisible_character("Zoë"), invisible_character("\\u2764\\ufe0f")
(None, None)
>>> mixed_scripts("ex\\u0430mple.com"), mixed_scripts("пример.рф"), mixed_scripts("例え.jp")
(('Cyrillic', 'Latin'), None, None)
"""

from __future__ import annotations

import functools
import unicodedata
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import regex

__all__ = ["invisible_character", "mixed_scripts"]

_ZWNJ, _ZWJ = "\u200c", "\u200d"


class _Patterns(NamedTuple):
    #: Invisible characters, and format characters (bidi controls, tags, joiners) of any kind.
    invisible: regex.Pattern[str]
    variation: regex.Pattern[str]
    pictographic: regex.Pattern[str]
    emoji_modifier: regex.Pattern[str]


@functools.cache
def _patterns() -> _Patterns:
    """The character classes the checks use (``regex`` loads on the first check)."""
    import regex

    return _Patterns(
        invisible=regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Cf}]"),
        variation=regex.compile(r"\p{Variation_Selector}"),
        pictographic=regex.compile(r"\p{Extended_Pictographic}"),
        emoji_modifier=regex.compile(r"[\p{Emoji_Modifier}\p{Variation_Selector}]"),
    )


#: Script sets one name or domain may combine (Unicode TS 39, "highly restrictive").
_SCRIPT_SETS = (
    frozenset({"Latn", "Hani", "Hira", "Kana"}),
    frozenset({"Latn", "Hani", "Bopo"}),
    frozenset({"Latn", "Hani", "Hang"}),
)
_NO_SCRIPT = frozenset({"Zyyy", "Zinh", "Zzzz"})  # common, inherited, unknown


def invisible_character(text: str) -> str | None:
    """The first character of ``text`` no reader sees, named; None when there is none.

    Allowed where a script or an emoji needs them: a zero-width joiner or
    non-joiner where IDNA 2008 allows one (after a virama, between joining
    Arabic letters), a joiner inside an emoji sequence, and one variation
    selector after a visible character (an emoji or an ideograph variant).
    """
    if text.isascii():  # no invisible or format character is ASCII
        return None
    for match in _patterns().invisible.finditer(text):
        pos, char = match.start(), match.group()
        if not _allowed_here(text, pos, char):
            return _named(char)
    return None


def _allowed_here(text: str, pos: int, char: str) -> bool:
    patterns = _patterns()
    if patterns.variation.match(char):  # one selector after a visible character, not a run of them
        return pos > 0 and not patterns.invisible.match(text[pos - 1])
    if char in (_ZWNJ, _ZWJ):
        if char == _ZWJ and _in_emoji_sequence(text, pos):
            return True
        import idna

        try:
            return bool(idna.valid_contextj(text, pos))
        except (ValueError, IndexError, idna.IDNAError):
            return False
    return False


def _in_emoji_sequence(text: str, pos: int) -> bool:
    before = pos - 1
    patterns = _patterns()
    while before >= 0 and patterns.emoji_modifier.match(text[before]):
        before -= 1
    return (
        before >= 0
        and pos + 1 < len(text)
        and bool(patterns.pictographic.match(text[before]))
        and bool(patterns.pictographic.match(text[pos + 1]))
    )


def _named(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'an unnamed format character')}"


def mixed_scripts(text: str) -> tuple[str, ...] | None:
    """The scripts ``text`` mixes in a way spoofed names do, sorted; None when it does not.

    One script is fine, and so are the combinations Unicode's "highly
    restrictive" profile allows (Latin with Japanese, Chinese or Korean);
    digits, punctuation and combining marks belong to every script.
    """
    if text.isascii():
        return None
    codes = {_script(c) for c in set(text)} - _NO_SCRIPT
    if len(codes) <= 1 or any(codes <= allowed for allowed in _SCRIPT_SETS):
        return None
    names = _scripts()[0]
    return tuple(sorted(names.get(c, c) for c in codes))


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> str:
    """The ISO 15924 code of ``char``'s Unicode script ("Zyyy" for common characters)."""
    match = _scripts()[1].match(char)
    return match.lastgroup if match is not None and match.lastgroup else "Zzzz"


@functools.cache
def _scripts() -> tuple[dict[str, str], regex.Pattern[str]]:
    """ISO 15924 code -> name of every script ``regex`` knows, and one pattern naming a
    character's script (built on first use: about 0.1 s)."""
    import pycountry
    import regex

    names: dict[str, str] = {}
    for script in pycountry.scripts:
        try:
            regex.compile(rf"\p{{Script={script.alpha_4}}}")
        except regex.error:  # a script Unicode does not encode
            continue
        names[script.alpha_4] = script.name.split(" (")[0]
    pattern = "|".join(rf"(?P<{code}>\p{{Script={code}}})" for code in sorted(names))
    return names, regex.compile(pattern)
