"""``GetAddressTask``'s chart: an international mailing address.

The result's ``address`` is LiveKit's value: the parts as given, joined by
spaces. Its other attributes are the parts normalised: spoken numbers as
digits ("one two three main street" -> "123 main street", "apartment four
b" -> "apartment 4B"), the country's name resolved with pycountry (names,
official names, two- and three-letter codes, common aliases), and
``formatted``, the normalised parts separated by commas. Where a country's
postal code format is known, the code must be present and match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from taskchart.statecharts.fields import Field
from taskchart.statecharts.spoken import strip_filler
from taskchart.statecharts.task import TaskSpec, declarative_task
from text_to_num import alpha2digit  # type: ignore[import-untyped,unused-ignore]

from .common import confirm_tool, decline_tool, policy, update_tool

__all__ = [
    "AUDIO",
    "BASE",
    "TEXT",
    "GetAddressResult",
    "address_spec",
    "format_address",
    "livekit_address",
    "normalize_country",
    "normalized_parts",
    "spoken_address_part",
]


@dataclass
class GetAddressResult:
    """``address`` as LiveKit returns it; the other attributes are the normalised parts."""

    address: str
    formatted: str | None = field(default=None, compare=False, kw_only=True)
    street_address: str | None = field(default=None, compare=False, kw_only=True)
    unit_number: str | None = field(default=None, compare=False, kw_only=True)
    locality: str | None = field(default=None, compare=False, kw_only=True)
    region: str | None = field(default=None, compare=False, kw_only=True)
    postal_code: str | None = field(default=None, compare=False, kw_only=True)
    country: str | None = field(default=None, compare=False, kw_only=True)


_ALIASES = {
    "america": "US",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "the united states": "US",
    "uk": "GB",
    "u.k.": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "the netherlands": "NL",
    "holland": "NL",
    "deutschland": "DE",
    "south korea": "KR",
    "korea": "KR",
    "russia": "RU",
    "vietnam": "VN",
    "ivory coast": "CI",
    "czech republic": "CZ",
    "espana": "ES",
    "españa": "ES",
}

#: Postal code formats where a code is required (ISO alpha-2 -> pattern, words for the model).
POSTAL_CODES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("DE", "FR", "ES", "IT"), (r"\b\d{5}\b", "a 5-digit postal code")),
    "US": (r"\b\d{5}(?:-\d{4})?\b", "a 5-digit ZIP code"),
    "CA": (r"\b[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d\b", "a postal code like K1A 0B1"),
    "GB": (r"\b[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}\b", "a postcode like SW1A 1AA"),
    "NL": (r"\b\d{4} ?[A-Za-z]{2}\b", "a postal code like 1012 AB"),
    "AU": (r"\b\d{4}\b", "a 4-digit postcode"),
    "IN": (r"\b\d{3} ?\d{3}\b", "a 6-digit PIN code"),
    "CN": (r"\b\d{6}\b", "a 6-digit postal code"),
    "JP": (r"\b\d{3}-?\d{4}\b", "a postal code like 100-0001"),
    "BR": (r"\b\d{5}-?\d{3}\b", "a CEP like 01310-100"),
}


def normalize_country(text: str) -> str:
    """The country's common English name, from a name, an official name, a code or an alias.

    >>> normalize_country("usa"), normalize_country("Deutschland"), normalize_country("FR")
    ('United States', 'Germany', 'France')
    """
    key = " ".join(strip_filler(text).split()).casefold()
    code = _ALIASES.get(key)
    import pycountry  # loaded on first use

    try:
        country = pycountry.countries.lookup(code or key)
    except LookupError:
        raise ValueError(
            "That is not a country I know; ask the user for the country's full name."
        ) from None
    return str(getattr(country, "common_name", None) or country.name)


def _alpha2(country_name: str) -> str | None:
    import pycountry

    try:
        return str(pycountry.countries.lookup(country_name).alpha_2)
    except LookupError:
        return None


_NUMBER_RUN = re.compile(r"^(\d+)((?:\s+\d+)+)\b")
_NUMBER_LETTER = re.compile(r"\b(\d+)\s+([A-Za-z])\b(?!')")


def spoken_address_part(text: str, threshold: int = 3) -> str:
    """Spoken numbers to digits; a leading run of numbers is one house number.

    >>> spoken_address_part("one two three main street")
    '123 main street'
    >>> spoken_address_part("four fifty South Main St")
    '450 South Main St'
    >>> spoken_address_part("apartment four b")
    'apartment 4B'
    """
    text = " ".join(strip_filler(text).split())
    if not text:
        raise ValueError("must not be empty")
    text = str(alpha2digit(text, "en", threshold=threshold))
    text = _NUMBER_RUN.sub(lambda m: m.group(1) + "".join(m.group(2).split()), text)
    return _NUMBER_LETTER.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def _unit(text: str) -> str:
    return spoken_address_part(text, threshold=0) if text.strip() else ""  # "floor two"


def _postal(text: str) -> str:
    return " ".join(str(alpha2digit(text, "en")).split()).upper() if text.strip() else ""


#: Countries whose addresses name a state, province or territory (pycountry subdivisions).
REGION_REQUIRED = {"US": "state", "CA": "province", "AU": "state or territory"}


@cache
def _regions(code: str) -> frozenset[str]:
    """Subdivision codes ("UT") and names ("utah") of a country, casefolded."""
    import pycountry

    found: set[str] = set()
    for sub in pycountry.subdivisions.get(country_code=code) or ():  # type: ignore[no-untyped-call,unused-ignore]
        found.add(str(sub.code).split("-", 1)[1].casefold())
        found.add(str(sub.name).casefold())
    return frozenset(found)


def _names_region(code: str, text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", text.casefold())
    regions = _regions(code)
    for size in (1, 2, 3, 4):  # "ut", "new york", "district of columbia"
        for i in range(len(words) - size + 1):
            if " ".join(words[i : i + size]) in regions:
                return True
    return False


def check_address(values: dict[str, Any]) -> dict[str, Any]:
    """Required parts per country: the postal code where its format is known, the region
    where addresses name one (a US state, a Canadian province, an Australian state)."""
    given = values
    values = normalized_parts(values)
    country = values.get("country")
    code = _alpha2(country) if country else ""
    if not code or not values.get("locality"):
        return given
    known = POSTAL_CODES.get(code)
    if known is not None:
        pattern, words = known
        where = f"{values.get('locality', '')} {values.get('postal_code', '')}"
        if not re.search(pattern, where):
            raise ValueError(
                f"An address in {country} needs {words}; ask the user for it and pass it "
                "in postal_code (or in locality)."
            )
    what = REGION_REQUIRED.get(code)
    if what is not None:
        where = f"{values.get('locality', '')} {values.get('region', '')}"
        if not _names_region(code, where):
            raise ValueError(
                f"An address in {country} needs its {what}; ask the user for it and pass it "
                "in region (or in locality)."
            )
    return given


#: How each part is normalised (each raises ValueError for a part it cannot read).
_NORMALIZE: dict[str, Callable[[str], str]] = {
    "street_address": spoken_address_part,
    "unit_number": _unit,
    "locality": spoken_address_part,
    "region": lambda text: " ".join(text.split()),
    "postal_code": _postal,
    "country": normalize_country,
}


def normalized_parts(values: Mapping[str, Any]) -> dict[str, Any]:
    """The parts given, normalised: spoken numbers as digits, the country's common name.

    >>> normalized_parts({"street_address": "one two three main street", "country": "usa"})
    {'street_address': '123 main street', 'country': 'United States'}
    """
    return {k: _NORMALIZE[k](v) if k in _NORMALIZE and v else v for k, v in values.items()}


def _as_given(part: str) -> Callable[[str], str]:
    # Its name is part of the check's fingerprint in a stored flow's digest: renaming it
    # would refuse every address call in flight at the next deploy.
    normalize = _NORMALIZE[part]

    def check(text: str) -> str:
        normalize(text)  # raises ValueError saying what is wrong
        return text

    return check


def _part(name: str, description: str, *, optional: bool = False, pii: bool = True) -> Field:
    """A part of the address: checked as its normaliser reads it, kept as the user gave it."""
    return Field(
        name,
        description=description,
        required=not optional,
        allow_empty=optional,
        normalize=_as_given(name),
        pii=pii,
    )


def livekit_address(values: Mapping[str, Any]) -> str:
    """LiveKit's value: the parts as given joined by spaces, the unit only when there is one.

    ``region`` and ``postal_code`` (taskchart's optional arguments) follow the locality.

    >>> livekit_address({"street_address": "450 South Main St", "unit_number": "",
    ...                  "locality": "Salt Lake City UT 84101", "country": "usa"})
    '450 South Main St Salt Lake City UT 84101 usa'
    """
    return " ".join(_livekit_parts(values))


def _livekit_parts(values: Mapping[str, Any]) -> list[str]:
    """The parts LiveKit joins: street, unit (when there is one), locality, country."""
    locality = " ".join(
        p for p in (values.get("locality"), values.get("region"), values.get("postal_code")) if p
    )
    unit = values.get("unit_number") or ""
    street, country = values.get("street_address") or "", values.get("country") or ""
    return [street, unit, locality, country] if unit.strip() else [street, locality, country]


def format_address(values: Mapping[str, Any]) -> str:
    """The parts in order, comma separated, empty parts left out.

    >>> format_address({"street_address": "450 South Main St", "unit_number": "",
    ...                 "locality": "Salt Lake City UT", "postal_code": "84101",
    ...                 "country": "United States"})
    '450 South Main St, Salt Lake City UT 84101, United States'
    """
    locality = " ".join(
        p for p in (values.get("locality"), values.get("region"), values.get("postal_code")) if p
    )
    parts = (
        values.get("street_address"),
        values.get("unit_number"),
        locality,
        values.get("country"),
    )
    return ", ".join(p for p in parts if p)


def _result(**values: Any) -> GetAddressResult:
    parts = normalized_parts({k: v for k, v in values.items() if v is not None})
    return GetAddressResult(
        livekit_address(values),
        formatted=format_address(parts),
        **{k: parts.get(k) or None for k in _NORMALIZE},
    )


def _readback(spell: bool) -> Callable[[Mapping[str, Any]], str]:
    """LiveKit's tool output: the address, how to read it back, and not to confirm directly."""

    def readback(values: Mapping[str, Any]) -> str:
        address = livekit_address(values)
        if spell:
            street, *rest = _livekit_parts(values)
            how = (
                "Repeat the address field by field, spelling the street name letter by "
                f"letter: {[' '.join(street.replace(' ', '')), *rest]}"
            )
        else:
            how = "Repeat the address back to the user."
        return (
            f"The address has been updated to {address}\n{how}\n"
            "Prompt the user for confirmation, do not call `confirm_address` directly"
        )

    return readback


BASE = """\
You are only a single step in a broader system, responsible solely for capturing an address.
You will be handling addresses from any country.
Call `update_address` at the first opportunity whenever you form a new hypothesis about the address (before asking any questions or providing any answers).
Don't invent new addresses, stick strictly to what the user said.
If the address is unclear or invalid, or it takes too much back-and-forth, prompt for it in parts in this order: street address, unit number if applicable, locality, and country.
If the user will not give an address, call `decline_address_capture`.
Ignore unrelated input. Do not generate markdown, greetings, or unnecessary commentary.
"""

AUDIO = """\
Handle input as noisy voice transcription; spoken numbers ('one two three main street') are normalised for you.
Read postal codes back digit by digit. Call `confirm_address` only after the user said the address you read back is correct.
"""

TEXT = """\
Handle input as typed text. If the address looks almost correct but misses a part (country or postal code), ask for it.
"""


@cache
def address_spec(require_confirmation: bool | None = None) -> TaskSpec:
    """The address task."""
    return declarative_task(
        "address",
        _result,
        subject="address",
        description="Collects the user's mailing address",
        fields=[
            _part(
                "street_address",
                "Dependent on country, may include fields like house number, "
                "street name, block, or district",
            ),
            _part(
                "unit_number",
                "The unit number, for example Floor 1 or Apartment 12. "
                "If there is no unit number, return ''",
                optional=True,
            ),
            _part(
                "locality",
                "Dependent on country, may include fields like city, zip code, or province",
            ),
            Field(
                "region",
                description="The state, province or region, if the country uses one",
                required=False,
                allow_empty=True,
            ),
            _part(
                "postal_code", "The postal or ZIP code, if not already in locality", optional=True
            ),
            _part("country", "The country the user lives in spelled out fully", pii=False),
        ],
        confirmation=policy(require_confirmation),
        instructions="Ask the user for their address.",
        tools=[
            update_tool(
                "update_address",
                "Update the address provided by the user.",
                {
                    "street_address": "street_address",
                    "unit_number": "unit_number",
                    "locality": "locality",
                    "country": "country",
                    "region": "region",
                    "postal_code": "postal_code",
                },
                "street_address",
                "locality",
                "country",
            ),
            confirm_tool("confirm_address", "Call after the user confirms the address is correct."),
            decline_tool("decline_address_capture", "an address"),
        ],
        validate=check_address,
        readback=_readback(False),
        spelled_readback=_readback(True),
    )
