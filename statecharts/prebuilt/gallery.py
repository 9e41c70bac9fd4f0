"""One representative chart per prebuilt task, with no arguments: what the repository draws.

>>> sorted(GALLERY)[:3]
['get_address_task', 'get_credit_card_task', 'get_dob_task']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs
from taskchart.statecharts.task import TaskSpec

from .address import address_spec
from .card import card_number_spec, expiration_date_spec, security_code_spec
from .dob import dob_spec
from .dtmf import dtmf_spec
from .email import email_spec
from .menu import menu_spec
from .name import name_spec
from .phone import phone_spec

#: diagram name -> zero-argument factory of a spec or of a group's specs
GALLERY: dict[str, Callable[[], TaskSpec | Sequence[TaskSpec]]] = {}

_Factory = TypeVar("_Factory", bound=Callable[[], TaskSpec | Sequence[TaskSpec]])


def _drawn(diagram: str) -> Callable[[_Factory], _Factory]:
    """Put the factory below in :data:`GALLERY` under ``diagram``."""

    def add(factory: _Factory) -> _Factory:
        GALLERY[diagram] = factory
        return factory

    return add


@_drawn("get_email_task")
def email() -> TaskSpec:
    return email_spec()


@_drawn("get_address_task")
def address() -> TaskSpec:
    return address_spec()


@_drawn("get_phone_number_task")
def phone_number() -> TaskSpec:
    return phone_spec()


@_drawn("get_name_task")
def name() -> TaskSpec:
    return name_spec(first_name=True, last_name=True)


@_drawn("get_dob_task")
def dob() -> TaskSpec:
    return dob_spec(include_time=True)


@_drawn("get_dtmf_task")
def dtmf() -> TaskSpec:
    return dtmf_spec(10, ask_for_confirmation=True)


@_drawn("get_credit_card_task")
def credit_card() -> list[TaskSpec]:
    """GetCreditCardTask's steps, in order, with its group's task ids."""
    steps = [
        ("card_number_task", card_number_spec(), ()),
        ("expiration_date_task", expiration_date_spec(), ()),
        ("security_code_task", security_code_spec(), ("card_number_task",)),
        ("cardholder_name_task", name_spec(first_name=True, last_name=True), ()),
    ]
    return [attrs.evolve(spec, id=i, depends_on=deps) for i, spec, deps in steps]


@_drawn("menu_task")
def menu() -> TaskSpec:
    return menu_spec("Main menu.", {"1": "deposit accounts", "2": "credit cards"})


__all__ = ["GALLERY", *(factory.__name__ for factory in GALLERY.values())]
