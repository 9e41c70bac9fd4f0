"""The prebuilt tasks' result types, registered so a durable group gives them back as themselves.

Card results are registered ``secret``: a store without an encryption key
never keeps them (:mod:`taskchart.runtime.durable`).
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from taskchart.runtime.results import register_result_type
from taskchart.statecharts.prebuilt import (
    GetAddressResult,
    GetCardNumberResult,
    GetCreditCardResult,
    GetDOBResult,
    GetDtmfResult,
    GetEmailResult,
    GetExpirationDateResult,
    GetNameResult,
    GetPhoneNumberResult,
    GetSecurityCodeResult,
)
from taskchart.statecharts.prebuilt.menu import MenuResult

__all__: list[str] = []


def _dob_json(result: GetDOBResult) -> dict[str, Any]:
    born = result.time_of_birth
    return {
        "date_of_birth": result.date_of_birth.isoformat(),
        "time_of_birth": born.isoformat() if born is not None else None,
    }


def _dob(value: dict[str, Any]) -> GetDOBResult:
    born = value.get("time_of_birth")
    return GetDOBResult(
        date.fromisoformat(value["date_of_birth"]),
        time.fromisoformat(born) if born is not None else None,
    )


_PLAIN: tuple[type[Any], ...] = (
    GetAddressResult,
    GetDtmfResult,
    GetEmailResult,
    GetNameResult,
    GetPhoneNumberResult,
    MenuResult,
)
_CARD: tuple[type[Any], ...] = (
    GetCardNumberResult,
    GetCreditCardResult,
    GetExpirationDateResult,
    GetSecurityCodeResult,
)
for _kind in _PLAIN:
    register_result_type(_kind)
for _kind in _CARD:
    register_result_type(_kind, secret=True)
register_result_type(GetDOBResult, encode=_dob_json, decode=_dob)
