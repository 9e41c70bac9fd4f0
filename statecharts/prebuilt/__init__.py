"""The prebuilt tasks as pure task specs: email, address, phone, name, date of birth, DTMF, card.

Each builder returns a cached :class:`~taskchart.statecharts.TaskSpec` (one per
option set, so its chart is compiled once) with the tool names, arguments and
result dataclasses of LiveKit Agents' ``beta.workflows`` tasks. The LiveKit
classes live in :mod:`taskchart.adapters.livekit`; the specs here are what
diagrams, static checks and property tests use.

>>> from taskchart.statecharts import compile_chart
>>> from taskchart.runtime import Interpreter, ToolCalled
>>> flow = Interpreter(compile_chart(email_spec()))
>>> _ = flow.start()
>>> flow.handle(ToolCalled("update_email_address", {"email": "ada at example dot com"})).ok
True
>>> flow.result.email_address
'ada@example.com'
"""

from . import address, card, dob, dtmf, email, name, phone
from .address import GetAddressResult, address_spec
from .card import (
    CARD_ISSUERS,
    GetCardNumberResult,
    GetCreditCardResult,
    GetExpirationDateResult,
    GetSecurityCodeResult,
    card_number_spec,
    expiration_date_spec,
    security_code_spec,
)
from .common import policy
from .dob import GetDOBResult, dob_spec
from .dtmf import DtmfEvent, GetDtmfResult, dtmf_spec
from .email import GetEmailResult, email_spec
from .name import GetNameResult, name_spec
from .phone import GetPhoneNumberResult, phone_spec

__all__ = [
    "CARD_ISSUERS",
    "DtmfEvent",
    "GetAddressResult",
    "GetCardNumberResult",
    "GetCreditCardResult",
    "GetDOBResult",
    "GetDtmfResult",
    "GetEmailResult",
    "GetExpirationDateResult",
    "GetNameResult",
    "GetPhoneNumberResult",
    "GetSecurityCodeResult",
    "address",
    "address_spec",
    "card",
    "card_number_spec",
    "dob",
    "dob_spec",
    "dtmf",
    "dtmf_spec",
    "email",
    "email_spec",
    "expiration_date_spec",
    "name",
    "name_spec",
    "phone",
    "phone_spec",
    "policy",
    "security_code_spec",
]
