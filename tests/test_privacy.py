"""Every prebuilt task chart, to each ending: no personal value where taskchart writes.

What is promised (DESIGN.md, "Private data"), and checked here on the sans-I/O
runtime for email, address, phone number, name, date of birth, DTMF digits,
card number, expiration date and security code, and a group with a
regression: the value of a ``pii`` field, card data, CVVs and keypad entries
reach no log record (any level; structlog configured by the application with
a plain console or JSON chain and no redaction processor, or structlog
unconfigured and the standard library at DEBUG), no journal file (written by
``dump_journal`` or the pytest plugin) and no snapshot file, unless the user
opts in with ``raw_values=True``; those files are created 0600; and the
refusal texts the model reads do not echo them. Free text that repeats a
value (a decline or close reason) loses it too. The LiveKit sessions are in
``tests/livekit/test_privacy_sessions.py``.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from taskchart.runtime import (
    DtmfReceived,
    Event,
    Interpreter,
    Rejected,
    SessionClosed,
    SnapshotError,
    ToolCalled,
    UserSpoke,
    restore,
    snapshot,
)
from taskchart.runtime.private import dump_snapshot
from taskchart.runtime.pytest_plugin import write_journals
from taskchart.runtime.replay import dump_journal, read_log, replay
from taskchart.statecharts import TaskSpec, compile_chart, prebuilt
from taskchart.statecharts.prebuilt import email_spec

from .helpers import LOG_MODES, logs_captured


@dataclass
class Task:
    """A prebuilt task's chart and what a caller gives it (``privacy_tasks.toml``); its tools
    are read from the spec."""

    spec: TaskSpec
    update: list[Event]
    raw: tuple[str, ...]  # what must never be found
    said: str  # a raw value as the caller said it, echoed in free text
    invalid: Event
    confirm_args: dict[str, Any]  # a confirmation by repetition

    @classmethod
    def of(cls, entry: dict[str, Any]) -> Task:
        factory = getattr(prebuilt, entry["spec"])
        spec = factory(*entry.get("spec_args", ()), **entry.get("spec_options", {}))
        update = _tool(spec, "update")
        assert update is not None
        return cls(
            spec,
            [DtmfReceived(key) for key in entry["keys"]]
            if "keys" in entry
            else [ToolCalled(update, entry["update"])],
            tuple(entry["raw"]),
            entry["said"],
            ToolCalled(update, entry["invalid"]),
            entry.get("confirm", {}),
        )

    def tool(self, event: str) -> str | None:
        """The spec's tool sending ``event`` (``confirm``, ``decline``, ``fail``), if any."""
        return _tool(self.spec, event)

    @property
    def confirm(self) -> ToolCalled:
        name = self.tool("confirm")
        assert name is not None
        return ToolCalled(name, self.confirm_args)


def _tool(spec: TaskSpec, event: str) -> str | None:
    return next((t.name for t in spec.tools if t.event == event), None)


def _call(name: str, **args: Any) -> ToolCalled:
    return ToolCalled(name, args)


TASKS: dict[str, Task] = {
    name: Task.of(entry)
    for name, entry in tomllib.loads(
        Path(__file__).with_name("privacy_tasks.toml").read_text(encoding="utf-8")
    ).items()
}


def _events(task: Task, ending: str) -> list[Event]:
    events = [task.invalid, *task.update]
    if ending == "complete":
        return [*events, UserSpoke("yes", "audio"), task.confirm]
    reason = {
        "decline": f"will not say {task.said} again",
        "fail": f"another card, not {task.said}",
    }
    name = task.tool(ending)
    if name is not None:
        return [*events, _call(name, reason=reason[ending])]
    return [*events, SessionClosed(f"hung up after {task.said}")]


CASES = [
    pytest.param(name, ending, id=f"{name}-{ending}")
    for name, task in TASKS.items()
    for ending in ("complete", "decline", "close", *(("fail",) if task.tool("fail") else ()))
]


def found(task: Task, text: str) -> list[str]:
    """Raw values in ``text``, once chart digests, timestamps and timings (noise) are out."""
    text = re.sub(r'"?(digest|timestamp|ms)"?[:=] ?"?[0-9a-fA-F.:TZ-]+"?', "", text)
    return [raw for raw in task.raw if raw in text]


@pytest.mark.parametrize("mode", LOG_MODES)
@pytest.mark.parametrize(("name", "ending"), CASES)
def test_no_personal_value_in_logs_journals_or_snapshot_files(
    name: str, ending: str, mode: str, tmp_path: Path
) -> None:
    task = TASKS[name]
    with logs_captured(mode) as log_text:
        flow = Interpreter(compile_chart(task.spec), modality="audio", record=True)
        flow.start()
        for event in _events(task, ending):
            flow.handle(event)
            if event in task.update:
                dump_snapshot(flow, tmp_path / "snapshot.json")  # a value is held now
        assert flow.done
        dump_journal(flow, tmp_path / "call.jsonl", modality="audio")
        write_journals([flow], tmp_path / "journals")
        logged = log_text()
    assert "transition" in logged  # the records were there to search
    files = [
        tmp_path / "snapshot.json",
        tmp_path / "call.jsonl",
        *(tmp_path / "journals").iterdir(),
    ]
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
        assert not found(task, path.read_text()), path.read_text()
    assert not found(task, logged), logged
    report = replay(flow.chart, read_log(tmp_path / "call.jsonl"))
    assert report.ok and report.configuration == flow.configuration


@pytest.mark.parametrize(
    "name",
    [
        "email",
        "address",
        "phone",
        "name",
        "date of birth",
        "dtmf",
        "card number",
        "expiration date",
        "security code",
    ],
)
def test_refusals_the_model_reads_do_not_echo_the_value(name: str) -> None:
    task = TASKS[name]
    flow = Interpreter(compile_chart(task.spec))
    flow.start()
    outcome = flow.handle(task.invalid)
    assert isinstance(outcome, Rejected)
    assert not found(task, outcome.message), outcome.message


def test_a_snapshot_refused_on_restore_does_not_echo_the_value() -> None:
    flow = Interpreter(compile_chart(email_spec()))
    flow.start()
    data = snapshot(flow)
    data["values"] = {"email": {"email_address": "ada.quill@example"}}
    with pytest.raises(SnapshotError) as refused:
        restore(flow.chart, json.loads(json.dumps(data)))
    assert "ada.quill" not in str(refused.value)


GROUP = [
    prebuilt.name_spec(first_name=True, last_name=True),
    email_spec(),
    prebuilt.security_code_spec(True),
]


@pytest.mark.parametrize("mode", LOG_MODES)
def test_a_group_with_a_regression_keeps_values_out_of_logs_and_journals(
    mode: str, tmp_path: Path
) -> None:
    raw = ("Augusta", "Quillfeather", "Augustina", "ada.quill", "737")
    with logs_captured(mode) as log_text:
        flow = Interpreter(compile_chart(GROUP), modality="audio", record=True)
        flow.start()
        for event in [
            _call("update_name", first_name="Augusta", last_name="Quillfeather"),
            UserSpoke("yes", "audio"),
            _call("confirm_name"),
            _call("update_email_address", email="ada.quill@example.com"),
            _call("out_of_scope", task_ids=["name"]),  # the caller corrects the name
            _call("update_name", first_name="Augustina", last_name="Quillfeather"),
            UserSpoke("yes", "audio"),
            _call("confirm_name"),
            UserSpoke("yes", "audio"),
            _call("confirm_email_address"),  # resumed with the email it had
            _call("update_security_code", security_code="737"),
            UserSpoke("737", "audio"),
            _call("confirm_security_code", repeated_security_code="737"),
        ]:
            flow.handle(event)
        assert flow.done and flow.result is not None
        dump_journal(flow, tmp_path / "call.jsonl", modality="audio")
        logged = log_text()
    journal = (tmp_path / "call.jsonl").read_text()
    assert "regress" in logged and '"out_of_scope"' in journal
    for text in (logged, journal):
        # timestamps are noise too: their microseconds may hold "737" by chance
        assert not [r for r in raw if r in re.sub(r'"(digest|ms|timestamp)": [^,]+', "", text)]
    report = replay(flow.chart, read_log(tmp_path / "call.jsonl"))
    assert report.ok and report.done


@pytest.mark.parametrize("confirming", [True, False])
def test_resume_text_never_spells_out_card_data(confirming: bool) -> None:
    from taskchart.runtime import messages
    from taskchart.statecharts.prebuilt import card

    cases = [
        (card.card_number_spec(), {"card_number": "4111111111114242"}, ["4111111111114242"]),
        (card.security_code_spec(), {"security_code": "739"}, ["739"]),
        (card.expiration_date_spec(), {"expiration_month": 4}, ["4"]),
    ]
    for spec, values, secrets in cases:
        text = messages.resume(spec, values, confirming=confirming)
        assert [s for s in secrets if s in re.findall(r"\d+", text)] == [], text
    said = messages.resume(card.card_number_spec(), cases[0][1], confirming=False)
    assert "card ending 4242" in said


def test_a_field_marked_card_is_masked_on_resume_and_private_whatever_its_name() -> None:
    from taskchart.runtime import messages
    from taskchart.statecharts import Confirmation, Field, compile_chart, declarative_task

    pan, named = Field("pan", card=True), Field("card_number")
    assert (pan.pii, named.card, named.pii, Field("holder").card) == (True, True, True, False)
    spec = declarative_task("payment", fields=[Field("holder"), pan, Field("cvc", card=True)])
    said = messages.resume(spec, {"holder": "Ada", "pan": "4111 1111 1111 4242"}, confirming=False)
    assert said == (
        "Back to the payment. Already collected: holder: Ada, pan: card ending 4242. "
        "Still needed: cvc."
    )
    plain = declarative_task("intro", fields=[Field("name")], confirmation=Confirmation.NEVER)
    assert compile_chart([plain, spec]).holds_card_data
    assert not compile_chart(plain).holds_card_data
