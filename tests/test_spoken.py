"""Tests for the spoken-value normalisers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from taskchart.statecharts.spoken import (
    MAX_EMAIL_INPUT_LENGTH,
    normalize_spoken_email,
    parse_yes_no,
    spoken_digits,
    strip_filler,
)

HOSTILE_NON_STR: list[object] = [None, 42, 4.2, b"john@example.com", ["yes"], {"a": 1}]

#: Each normaliser, and what it says it expected as text when given something else.
EXPECTED_AS_TEXT: dict[Callable[[str], object], str] = {
    normalize_spoken_email: "an email address",
    parse_yes_no: "a yes or no answer",
    spoken_digits: "digits",
    strip_filler: "an utterance",
}


@pytest.mark.parametrize("value", HOSTILE_NON_STR)
@pytest.mark.parametrize(
    ("normalise", "expected"), EXPECTED_AS_TEXT.items(), ids=[f.__name__ for f in EXPECTED_AS_TEXT]
)
def test_a_normaliser_rejects_what_is_not_text(
    normalise: Callable[[object], object], expected: str, value: object
) -> None:
    with pytest.raises(ValueError, match=rf"^Expected {expected} as text, got "):
        normalise(value)


# --- normalize_spoken_email -------------------------------------------------------


#: What was said, and the address normalize_spoken_email makes of it.
EMAILS: list[tuple[str, str]] = [
    ("john dot doe at gmail dot com", "john.doe@gmail.com"),
    ("John.Doe@Gmail.com", "John.Doe@gmail.com"),
    ("j o h n at example dot org", "john@example.org"),
    ("jane underscore smith at example dot co dot uk", "jane_smith@example.co.uk"),
    ("john twenty three at example dot com", "john23@example.com"),
    ("mary dash ann at example dot com", "mary-ann@example.com"),
    ("mary hyphen ann at example dot com", "mary-ann@example.com"),
    ("bob plus news at example dot com", "bob+news@example.com"),
    ("bob period smith at example period com", "bob.smith@example.com"),
    ("bob point smith at example point com", "bob.smith@example.com"),
    ("bob at sign example dot com", "bob@example.com"),
    ("bob at symbol example dot com", "bob@example.com"),
    ("bob at the rate example dot com", "bob@example.com"),
    ("bob full stop smith at example dot com", "bob.smith@example.com"),
    ("bob under score smith at example dot com", "bob_smith@example.com"),
    ("my email is john at example dot com", "john@example.com"),
    ("My e-mail address is john at example dot com", "john@example.com"),
    ("email address is john at example dot com", "john@example.com"),
    ("Email: john@example.com", "john@example.com"),
    ("it's john at example dot com", "john@example.com"),
    ("It\u2019s john at example dot com", "john@example.com"),
    ("that is john at example dot com", "john@example.com"),
    ("Um, my email is john at example dot com.", "john@example.com"),
    ("john@example.com!", "john@example.com"),
    ("john at example dot com?", "john@example.com"),
    ("<john@example.com>", "john@example.com"),
    ("mailto:john@example.com", "john@example.com"),
    ("<mailto:john@example.com>", "john@example.com"),
    ("email address is <mailto:bob@example.com>", "bob@example.com"),
    ("Jane Doe <jane@example.com>", "jane@example.com"),
    ("J-O-H-N at example dot com", "JOHN@example.com"),
    ("j, o, h, n at example dot org.", "john@example.org"),
    ("first dot last at example dot com", "first.last@example.com"),
    ("  john@example.com  ", "john@example.com"),
    ("JOHN DOT DOE AT EXAMPLE DOT COM", "JOHN.DOE@example.com"),
]


def test_email_internationalised_address_is_kept() -> None:
    assert normalize_spoken_email("jöhn@exämple.com") == "jöhn@exämple.com"
    assert normalize_spoken_email("JÖHN@EXÄMPLE.COM") == "JÖHN@exämple.com"


def test_email_invalid_message_is_actionable() -> None:
    with pytest.raises(ValueError) as info:
        normalize_spoken_email("john at gmail")
    assert str(info.value) == (
        "That is not a valid email address: The part after the @-sign is not "
        "valid. It should have a period. Ask the user to spell it."
    )  # the address is private: the message names the rule, not the value


@pytest.mark.parametrize(
    ("spoken", "reason"),
    [
        ("'; DROP TABLE users; --", "An email address must have an @-sign."),
        ("my email is", "An email address must have an @-sign."),
        ("john at at example dot com", "The part after the @-sign contains invalid characters"),
        ("john doe", "An email address must have an @-sign."),
    ],
)
def test_email_rejects_non_addresses(spoken: str, reason: str) -> None:
    with pytest.raises(ValueError, match="Ask the user to spell it") as info:
        normalize_spoken_email(spoken)
    assert str(info.value).startswith(f"That is not a valid email address: {reason}")
    assert spoken not in str(info.value)


@pytest.mark.parametrize(
    ("address", "what", "scripts"),
    [
        ("ada@ex\u0430mple.com", "domain", "Cyrillic and Latin"),  # a Cyrillic a
        ("ada@\u0430pple.com", "domain", "Cyrillic and Latin"),
        ("ada@\u0430\u0440\u0440le.com", "domain", "Cyrillic and Latin"),
        ("ada@\u03bfpenai.com", "domain", "Greek and Latin"),  # a Greek omicron
        ("\u0430da@example.com", "name before the @", "Cyrillic and Latin"),
    ],
)
def test_email_with_look_alike_letters_is_refused(address: str, what: str, scripts: str) -> None:
    with pytest.raises(ValueError) as info:
        normalize_spoken_email(address)
    assert str(info.value).startswith(f"The email's {what} mixes {scripts} letters")
    assert "spell it letter by letter" in str(info.value)
    assert address.split("@")[1] not in str(info.value)


@pytest.mark.parametrize(
    "address", ["ada@пример.рф", "ada@例え.jp", "jöhn@bücher.de", "ada@한국.kr", "иван@пример.рф"]
)
def test_email_in_one_script_is_kept(address: str) -> None:
    assert normalize_spoken_email(address) == address


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_email_rejects_empty(blank: str) -> None:
    with pytest.raises(ValueError, match=r"^No email address was given"):
        normalize_spoken_email(blank)


def test_email_length_limit() -> None:
    local = "a" * 64
    at_limit = f"{local}@" + "b" * (MAX_EMAIL_INPUT_LENGTH - 70) + ".com"
    assert len(at_limit) == MAX_EMAIL_INPUT_LENGTH - 1
    with pytest.raises(ValueError, match="not a valid email address"):
        normalize_spoken_email(at_limit)  # label too long, but it is read
    with pytest.raises(ValueError, match=r"too long \(321 characters, at most 320\)"):
        normalize_spoken_email("a" * 321)


def test_email_huge_input_is_rejected_quickly() -> None:
    huge = "john dot " * 1200
    with pytest.raises(ValueError, match=r"too long \(10800 characters"):
        normalize_spoken_email(huge)  # refused on its length, before any parsing


def test_email_error_names_type() -> None:
    with pytest.raises(ValueError) as info:
        normalize_spoken_email(None)  # type: ignore[arg-type]
    assert str(info.value) == "Expected an email address as text, got NoneType."


# --- parse_yes_no -----------------------------------------------------------------


#: What parse_yes_no makes of an answer: True for yes, False for no, None when unclear.
YES_NO: dict[bool | None, list[str]] = {
    True: [
        "yes",
        "Yes.",
        "YEAH!",
        "yep",
        "yup",
        "sure",
        "correct",
        "that's right",
        "That\u2019s right",
        "right",
        "ok",
        "okay",
        "alright",
        "affirmative",
        "I can",
        "of course",
        "absolutely",
        "uh-huh",
        "yes please, go ahead",
    ],
    False: [
        "no",
        "No!",
        "nope",
        "nah",
        "not really",
        "I can't",
        "I can\u2019t",
        "I cannot",
        "I can not",
        "wrong",
        "incorrect",
        "no that's not right",
        "yes, no, wait, that's wrong",
        "absolutely not",
        "that isn't correct",
        "I don't think so",
        "never",
    ],
    None: [
        "",
        "   ",
        "hmm",
        "maybe",
        "I'm not sure",
        "I don't know",
        "yesterday",
        "nobody called",
        "knowing",
        "'; DROP TABLE users; --",
        "x" * 10_000,
    ],
}


@pytest.mark.parametrize(
    ("answer", "expected"), [(a, v) for v, answers in YES_NO.items() for a in answers]
)
def test_parse_yes_no(answer: str, expected: bool | None) -> None:
    assert parse_yes_no(answer) is expected


def test_yes_no_long_input_still_matches() -> None:
    assert parse_yes_no("x " * 5_000 + "yes") is True
    assert parse_yes_no("yes " * 5_000 + "no") is False


# --- spoken_digits ----------------------------------------------------------------


#: What was said, and the digits spoken_digits reads in it.
DIGITS: list[tuple[str, str]] = [
    ("four one five, five five five", "415555"),
    ("4 1 5", "415"),
    ("415-555-1234", "4155551234"),
    ("(415) 555 1234", "4155551234"),
    ("four oh five", "405"),
    ("four o five", "405"),
    ("oh four five", "045"),
    ("four oh oh five", "4005"),
    ("double five", "55"),
    ("triple seven", "777"),
    ("double oh seven", "007"),
    ("four double five triple seven", "455777"),
    ("zero zero seven", "007"),
    ("one two three four five six seven eight nine zero", "1234567890"),
    ("star", "*"),
    ("asterisk one", "*1"),
    ("pound", "#"),
    ("hash", "#"),
    ("one, two, three, pound", "123#"),
    ("1234#", "1234#"),
    ("*69", "*69"),
    ("twenty three", "23"),
    ("twenty-three", "23"),
    ("forty two star", "42*"),
    ("eleven", "11"),
    ("nineteen eighty four", "1984"),
    ("nine hundred and eleven", "911"),
    ("two hundred twenty three", "223"),
    ("two hundred and five", "205"),
    ("one eight hundred five five five one two one two", "18005551212"),
    ("five thousand two hundred", "5200"),
    ("ten thousand", "10000"),
    ("My number is 4 one 5", "415"),
    ("oh, I think it's four five", "45"),
    ("\uff11\uff12\uff13", "123"),
]


@pytest.mark.parametrize(
    "spoken",
    ["", "   ", "oh", "o", "hello", "double", "hundred", "'; DROP TABLE users; --", "x" * 10_000],
)
def test_spoken_digits_without_digits_raises(spoken: str) -> None:
    with pytest.raises(ValueError, match=r"^No digits found in what was given\. Ask the user"):
        spoken_digits(spoken)


def test_spoken_digits_message_does_not_echo_the_input() -> None:
    with pytest.raises(ValueError) as info:
        spoken_digits("my pin is secret" + "x" * 10_000)
    assert str(info.value) == (
        "No digits found in what was given. Ask the user to say the digits again, one at a time."
    )  # digits are often private (a card, a PIN): the message names the rule only


def test_spoken_digits_long_input() -> None:
    assert spoken_digits("five " * 2_000) == "5" * 2_000
    assert spoken_digits("oh " * 3_000 + "one") == "0" * 3_000 + "1"


# --- strip_filler -----------------------------------------------------------------


#: What was said, and what strip_filler leaves of it.
FILLER: list[tuple[str, str]] = [
    ("um, yes", "yes"),
    ("Uh... okay so my name is Ann.", "my name is Ann"),
    ("  Erm, well, so, like, hi!  ", "hi"),
    ("ummm uhhh yes.", "yes"),
    ("okay, so what now?", "what now"),
    ("okay", "okay"),
    ("so", ""),
    ("Sofia", "Sofia"),
    ("like five", "five"),
    ("well-known", "well-known"),
    ("uh-huh", "uh-huh"),
    ("my name is Ann", "my name is Ann"),
    ("1234#", "1234#"),
    ('"quoted"', "quoted"),
    ("", ""),
]


def test_strip_filler_long_input() -> None:
    assert strip_filler("so " * 5_000 + "yes") == "yes"


# --- every normaliser's table ----------------------------------------------------

#: Each normaliser's table above.
NORMALISED: dict[Callable[[str], object], list[tuple[str, str]]] = {
    normalize_spoken_email: EMAILS,
    spoken_digits: DIGITS,
    strip_filler: FILLER,
}


@pytest.mark.parametrize(
    ("normalise", "spoken", "expected"),
    [
        pytest.param(normalise, spoken, expected, id=f"{normalise.__name__}-{spoken}")
        for normalise, table in NORMALISED.items()
        for spoken, expected in table
    ],
)
def test_normalises(normalise: Callable[[str], object], spoken: str, expected: str) -> None:
    assert normalise(spoken) == expected


# --- properties -------------------------------------------------------------------

SPOKEN_WORDS = st.sampled_from(
    [
        *("at", "dot", "oh", "o", "double", "triple", "hundred", "and", "thousand", "twenty"),
        *("one", "five", "nine", "eleven", "star", "pound", "dash", "plus", "underscore"),
        *("yes", "no", "not", "sure", "can't", "my email is", "um", ",", "@", ".", "<", ">"),
    ]
)
SPOKEN_TEXT = st.one_of(
    st.text(max_size=400),
    st.lists(SPOKEN_WORDS, max_size=40).map(" ".join),
)


#: The two normalisers that may refuse text, and what a value they return holds.
RETURNS: dict[Callable[[str], str], Callable[[str], bool]] = {
    normalize_spoken_email: lambda address: "@" in address,
    spoken_digits: lambda digits: bool(digits) and set(digits) <= set("0123456789*#"),
}


@pytest.mark.parametrize(("normalise", "holds"), RETURNS.items(), ids=["email", "digits"])
@settings(max_examples=300, deadline=None)
@given(SPOKEN_TEXT)
def test_returns_str_or_value_error(
    normalise: Callable[[str], str], holds: Callable[[str], bool], text: str
) -> None:
    try:
        result = normalise(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert isinstance(result, str)
        assert holds(result), result


@settings(max_examples=300, deadline=None)
@given(SPOKEN_TEXT)
def test_yes_no_never_raises(text: str) -> None:
    assert parse_yes_no(text) in (True, False, None)


@settings(max_examples=300, deadline=None)
@given(SPOKEN_TEXT)
def test_strip_filler_returns_str(text: str) -> None:
    result = strip_filler(text)
    assert isinstance(result, str)
    assert len(result) <= len(text)
