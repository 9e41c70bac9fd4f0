"""Keypad menus as charts: one menu (``MenuTask``'s chart), and nested menus as a flow.

A menu collects one key. A tone that is an option selects it at once; a tone
that is not is a no-match (the options are read again); a spoken choice goes
through ``select_option(key)``, and a key that is no option is refused and
counts as a no-match too; silence after the prompt is a no-input. Every
failure draws on one budget: after ``max_retries`` re-prompts (of any kind)
the next failure gives up: the menu fails with the type of that failure
(``NoMatch`` / ``NoInput``) or takes its exit (an operator task).

>>> from taskchart.statecharts import compile_chart
>>> from taskchart.runtime import DtmfReceived, Interpreter
>>> flow = Interpreter(compile_chart(menu_spec("Main menu.", {"1": "deposits", "2": "cards"})))
>>> _ = flow.start()
>>> flow.handle(DtmfReceived("2")).ok, flow.result
(True, MenuResult(key='2', label='cards'))

:func:`menu_flow` makes nested menus a flow like any other: each option
leads to a submenu, a task (which returns to its menu when done) or nowhere
(the flow ends with that choice); ``*`` goes back to the parent menu, ``#``
reads the prompt again, and every menu gives up into the ``operator`` task.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import attrs
from taskchart.statecharts import task
from taskchart.statecharts.fields import Field
from taskchart.statecharts.task import TaskSpec

__all__ = ["Menu", "MenuResult", "listing", "menu_flow", "menu_spec"]

SELECT_TOOL = "select_option"


@dataclass(frozen=True)
class MenuResult:
    """The option chosen: its ``key`` and its ``label``."""

    key: str
    label: str


def listing(options: Mapping[str, str]) -> str:
    """The options as a caller hears them.

    >>> listing({"1": "deposit accounts", "*": "the previous menu"})
    'Press 1 for deposit accounts. Press star for the previous menu.'
    """
    names = {"*": "star", "#": "pound"}
    return " ".join(f"Press {names.get(k, k)} for {label}." for k, label in options.items())


def menu_spec(
    prompt: str,
    options: Mapping[str, str],
    *,
    max_retries: int = 2,
    input_timeout: float = 5.0,
    id: str = "menu",
    repeat_key: str | None = None,
    routes: Mapping[str, str] | None = None,
    exit: str | None = None,
) -> TaskSpec:
    """The chart of one menu (cached per arguments: its chart compiles once).

    ``routes`` (option key -> task id) and ``exit`` (the task a menu that
    gives up goes to) matter in a flow; ``repeat_key`` reads the prompt again.
    """
    return _menu_spec(
        prompt,
        tuple(options.items()),
        max_retries,
        input_timeout,
        id,
        repeat_key,
        tuple((routes or {}).items()),
        exit,
    )


@lru_cache(maxsize=256)
def _menu_spec(
    prompt: str,
    options: tuple[tuple[str, str], ...],
    max_retries: int,
    input_timeout: float,
    id: str,
    repeat_key: str | None,
    routes: tuple[tuple[str, str], ...],
    exit: str | None,
) -> TaskSpec:
    labels = dict(options)
    if not labels:
        raise ValueError("a menu needs at least one option")
    if any(len(k) != 1 or k not in "0123456789*#ABCD" for k in labels):
        raise ValueError(f"menu keys are single keypad keys, got {sorted(labels)}")
    if repeat_key in labels:
        raise ValueError(f"the repeat key {repeat_key!r} is also an option")
    heard = listing(labels)

    def option(key: str) -> str:
        key = key.strip().upper()
        if key not in labels:
            raise ValueError(f"{key} is not an option; the options are {', '.join(labels)}")
        return key

    def result(key: str) -> MenuResult:
        return MenuResult(key, labels[key])

    again = f"Sorry, that is not an option. {heard}"
    return task.declarative_task(
        id,
        result,
        fields=[
            Field(
                "key",
                description="the key of the option the caller chose",
                normalize=option,
                schema={"enum": list(labels)},
            )
        ],
        confirmation=task.Confirmation.NEVER,
        instructions=(
            f"Read the menu to the caller: {prompt} {heard} When the caller says which "
            f"option they want, call {SELECT_TOOL} with its key."
        ),
        tools=[
            task.Tool(
                SELECT_TOOL,
                task.UPDATE,
                "Call when the caller chose an option by voice; give the option's key.",
                {"key": "key"},
                ("key",),
            )
        ],
        subject="menu choice",
        keypad=task.Keypad(num_digits=1, field="key", stop_key=None, repeat_key=repeat_key),
        no_input=task.InputHandler(
            timeout=input_timeout,
            prompts=[f"Sorry, I didn't hear a choice. {prompt} {heard}"],
            max_retries=max_retries,
            exit=exit,
        ),
        no_match=task.InputHandler(prompts=[again], max_retries=max_retries, exit=exit),
        routes=dict(routes),
        shared_retries=True,
    )


def _as_dict(mapping: Mapping[str, str]) -> dict[str, str]:
    return dict(mapping)


@attrs.frozen
class Menu:
    """One menu of a nested menu flow: ``options`` (key -> label), ``goto`` (key -> task id
    of a submenu or a task; an option with no goto ends the flow with that choice)."""

    id: str
    prompt: str
    options: Mapping[str, str] = attrs.field(converter=_as_dict)
    goto: Mapping[str, str] = attrs.field(factory=dict, converter=_as_dict)


def menu_flow(
    menus: Sequence[Menu],
    tasks: Sequence[TaskSpec] = (),
    *,
    operator: TaskSpec | None = None,
    back_key: str | None = "*",
    repeat_key: str | None = "#",
    max_retries: int = 2,
    input_timeout: float = 5.0,
) -> list[TaskSpec]:
    """Nested menus as task specs for one flow (``compile_chart(menu_flow(...))``).

    The first menu is the main menu. A submenu gets ``back_key`` as an option
    back to the menu that leads to it; a task an option leads to returns to
    that menu when it completes. Menus that give up go to ``operator``, and
    the flow ends after it.
    """
    parent: dict[str, str] = {}
    for menu in menus:
        for target in menu.goto.values():
            parent.setdefault(target, menu.id)
    exit = operator.id if operator is not None else None
    specs: list[TaskSpec] = []
    for menu in menus:
        options = dict(menu.options)
        routes = dict(menu.goto)
        up = parent.get(menu.id)
        if up is not None and back_key is not None and back_key not in options:
            options[back_key] = "the previous menu"
            routes[back_key] = up
        specs.append(
            menu_spec(
                menu.prompt,
                options,
                max_retries=max_retries,
                input_timeout=input_timeout,
                id=menu.id,
                repeat_key=repeat_key,
                routes=routes,
                exit=exit,
            )
        )
    specs += [attrs.evolve(t, then=t.then or parent.get(t.id)) for t in tasks]
    if operator is not None:
        specs.append(operator)
    return specs
