"""LiveKit's own validation rules for its prebuilt tasks, ported as checks on the specs.

Where LiveKit exposes the rule (the Luhn check, the email pattern), the same
inputs go through both and the answers are compared.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from livekit.agents.beta.workflows.credit_card import GetCardNumberTask as LiveKitCardNumberTask
from livekit.agents.beta.workflows.email_address import EMAIL_REGEX
from taskchart.statecharts.fields import FieldError
from taskchart.statecharts.prebuilt import card, dob, email_spec, name, phone_spec

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("year", "expected"), [(90, 1990), (5, 2005), (0, 2000), (26, 2026), (27, 1927), (1984, 1984)]
)
def test_two_digit_years_are_the_latest_past_year(year: int, expected: int) -> None:
    assert dob.full_year(year, TODAY) == expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"year": 2030, "month": 7, "day": 1}, "in the future"),
        ({"year": 1990, "month": 2, "day": 30}, "Invalid date"),
        ({"year": 1990, "month": 13, "day": 1}, "Invalid date"),
        ({"year": 1990, "month": 1, "day": 1, "hour": 25, "minute": 0}, "Invalid time"),
    ],
)
def test_impossible_dates_of_birth_are_refused(values: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dob.check_dob(values, TODAY)


def test_a_valid_date_of_birth_is_kept_with_the_full_year() -> None:
    assert dob.check_dob({"year": 90, "month": 1, "day": 15}, TODAY)["year"] == 1990


@given(st.text(alphabet="0123456789", min_size=1, max_size=19))
def test_luhn_agrees_with_livekit(number: str) -> None:
    assert card.luhn_ok(number) == LiveKitCardNumberTask.validate_card_number(None, number)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("month", "year", "expired"), [(10, 26, True), (11, 26, False), (12, 26, False), (1, 27, False)]
)
def test_a_card_expired_before_this_month_is_refused(month: int, year: int, expired: bool) -> None:
    values = {"expiration_month": month, "expiration_year": year}
    if expired:
        with pytest.raises(ValueError, match="expired"):
            card.check_expiry(values, TODAY)
    else:
        assert card.check_expiry(values, TODAY) == values


@pytest.mark.parametrize("code", ["12", "12345", "abc"])
def test_security_codes_have_three_or_four_digits(code: str) -> None:
    field = card.security_code_spec().field_map["security_code"]
    with pytest.raises(FieldError):
        field.clean(code)


@pytest.mark.parametrize("value", ["null", "NULL", "none", "n/a", "'unknown'", "4111", "12345"])
def test_placeholders_and_numbers_are_not_names(value: str) -> None:
    with pytest.raises(ValueError):
        name.normalize_name(value)


@pytest.mark.parametrize(
    "email",
    ["john.doe@gmail.com", "a_b-c+tag@example.co.uk", "x@sub.example.org", "9lives@cat.io"],
)
def test_emails_livekit_accepts_are_accepted(email: str) -> None:
    assert re.match(EMAIL_REGEX, email)
    assert email_spec().field_map["email_address"].clean(email) == email


@pytest.mark.parametrize("email", ["john@", "@example.com", "a@b", "john@@example.com"])
def test_emails_livekit_refuses_are_refused(email: str) -> None:
    assert not re.match(EMAIL_REGEX, email)
    with pytest.raises(FieldError):
        email_spec().field_map["email_address"].clean(email)


@pytest.mark.parametrize(
    ("raw", "collected", "expected"),
    [
        ("555-123-4567", None, None),  # 555-123 is not an assigned US exchange: refused
        ("(415) 555-0132", "4155550132", "+14155550132"),
        ("+44 20 7946 0958", "+442079460958", "+442079460958"),
        ("four one five five five five oh one three two", "4155550132", "+14155550132"),
    ],
)
def test_phone_numbers_are_validated_kept_as_collected_and_e164(
    raw: str, collected: str | None, expected: str | None
) -> None:
    spec = phone_spec()
    field = spec.field_map["phone_number"]
    if expected is None:
        with pytest.raises(FieldError):
            field.clean(raw)
    else:
        assert field.clean(raw) == collected
        assert spec.build_result({"phone_number": collected}).e164 == expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"country": "United States", "locality": "Salt Lake City UT"}, "ZIP code"),
        ({"country": "United States", "locality": "Springfield 62704"}, "needs its state"),
        ({"country": "Canada", "locality": "Ottawa K1A 0B1"}, "needs its province"),
        ({"country": "United Kingdom", "locality": "London"}, "postcode"),
    ],
)
def test_required_address_parts_per_country(values: dict[str, str], message: str) -> None:
    from taskchart.statecharts.prebuilt.address import check_address

    with pytest.raises(ValueError, match=message):
        check_address(values)


@pytest.mark.parametrize(
    "values",
    [
        {"country": "United States", "locality": "Salt Lake City UT 84101"},
        {
            "country": "United States",
            "locality": "Springfield",
            "region": "Illinois",
            "postal_code": "62704",
        },
        {"country": "Canada", "locality": "Ottawa ON K1A 0B1"},
        {"country": "France", "locality": "75006 Paris"},
        {"country": "Kenya", "locality": "Nairobi"},  # no known rule: accepted as given
    ],
)
def test_complete_addresses_pass(values: dict[str, str]) -> None:
    from taskchart.statecharts.prebuilt.address import check_address

    assert check_address(dict(values)) == values


def test_star_is_a_key_and_the_stop_key_ends_spoken_input() -> None:
    from taskchart.statecharts.prebuilt.dtmf import keys_of

    assert keys_of(["1", "2", "*", "4", "#"], 4) == "1 2 * 4"
    assert keys_of(["one two star four"], 4) == "1 2 * 4"


def test_the_read_back_count_is_chart_data_kept_by_snapshots() -> None:
    from taskchart.runtime import Interpreter, ToolCalled, UserSpoke, restore, snapshot
    from taskchart.statecharts import compile_chart

    chart = compile_chart(email_spec())
    flow = Interpreter(chart, modality="audio")
    flow.start()
    first = flow.handle(ToolCalled("update_email_address", {"email": "ab@cd.io"}))
    assert "Repeat the email back to the user." in first.message  # type: ignore[union-attr]
    saved = snapshot(flow)
    assert saved["readbacks"] == {"email": 1}
    again = restore(chart, saved)
    again.handle(UserSpoke("no, ab@cd.com", "audio"))
    second = again.handle(ToolCalled("update_email_address", {"email": "ab@cd.com"}))
    assert "Repeat the email character by character: a b @ c d . c o m" in second.message  # type: ignore[union-attr]
