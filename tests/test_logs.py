"""Every transition is logged through structlog, with personal data redacted."""

from __future__ import annotations

import logging
import re

import pytest
import structlog
from structlog.testing import capture_logs
from taskchart.runtime import Interpreter, ToolCalled
from taskchart.runtime.logs import get_logger, redact_text, redact_value
from taskchart.statecharts import compile_chart

from .conftest import email_flow
from .helpers import logs_captured


def test_transitions_are_logged_with_event_source_target_and_guards() -> None:
    with capture_logs() as logs:
        flow = email_flow(modality="audio")
        flow.handle(ToolCalled("update_email", {"email_address": "ada.l@example.com"}))
        flow.handle(ToolCalled("confirm_email", {}))
    transition, rejected = logs
    assert transition["event"] == "transition"
    assert transition["trigger"] == "update"
    assert transition["source"] == ("email", "email__collecting")
    assert transition["target"] == ("email", "email__confirming")
    assert transition["guards"] == {"all_fields_collected": True, "needs_confirmation": True}
    assert transition["args"] == {"values": {"email_address": "[redacted]"}}
    assert rejected["event"] == "rejected"
    assert rejected["code"] == "guard_failed"
    assert rejected["guards"] == {"value_unchanged_since_readback": False}
    assert "ada.l@example.com" not in repr(logs)


def test_unconfigured_structlog_goes_to_stdlib_logging_as_redacted_json(
    caplog: pytest.LogCaptureFixture,
) -> None:
    structlog.reset_defaults()
    assert not structlog.is_configured()
    flow = email_flow()
    with caplog.at_level(logging.INFO, logger="taskchart.runtime"):
        flow.handle(ToolCalled("update_email", {"email_address": "bob@example.com"}))
        flow.handle(ToolCalled("nope", {"card": "4111 1111 1111 1111"}))
    text = caplog.text
    assert '"trigger": "update"' in text
    assert "bob@example.com" not in text
    assert "4111" not in text


def test_logger_prints_nothing_below_warning_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    structlog.reset_defaults()
    get_logger("taskchart.runtime").info("transition", value="x")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("write to ada@example.com please", "write to [email] please"),
        ("card 4111-1111-1111-1111 exp 12/29", "card [card] exp 12/29"),
        ("my pin is 1234", "my pin is [digits]"),
        ("call 415 555 0199", "call [digits]"),
        ("room 42 at 9", "room 42 at 9"),
        ("no personal data", "no personal data"),
    ],
)
def test_redact_text(text: str, redacted: str) -> None:
    assert redact_text(text) == redacted


def test_redact_value_walks_nested_data() -> None:
    assert redact_value({"a": ["x@y.co", {"b": "5555"}], "n": 3}) == {
        "a": ["[email]", {"b": "[digits]"}],
        "n": 3,
    }


def test_card_data_never_reaches_the_logs() -> None:
    from taskchart.runtime import UserSpoke
    from taskchart.statecharts.prebuilt import card_number_spec, security_code_spec

    with capture_logs() as logs:
        flow = Interpreter(compile_chart(card_number_spec()), modality="audio")
        flow.start()
        flow.handle(ToolCalled("update_card_number", {"card_number": "4111 1111 1111 1112"}))
        flow.handle(ToolCalled("update_card_number", {"card_number": "4111 1111 1111 1111"}))
        flow.handle(ToolCalled("confirm_card_number", {"repeated_card_number": "4111111111111111"}))
        flow.handle(UserSpoke("4111 1111 1111 1111", "audio"))
        flow.handle(ToolCalled("confirm_card_number", {"repeated_card_number": "4111111111111111"}))
        code = Interpreter(compile_chart(security_code_spec()))
        code.start()
        code.handle(ToolCalled("update_security_code", {"security_code": "12"}))
        code.handle(ToolCalled("update_security_code", {"security_code": "737"}))
    structlog.reset_defaults()  # capture_logs leaves structlog configured to print
    assert flow.result is not None and code.result is not None
    assert len(logs) >= 5
    assert not any(d in repr(logs) for d in ("4111", "1111", "737"))


def _leaky_calls(flow_logger: object = None) -> None:
    """Records that used to show personal values: results, a repeated CVV, keys, a refusal."""
    from taskchart.runtime import DtmfReceived, TaskReturned, UserSpoke
    from taskchart.statecharts import implicit_task
    from taskchart.statecharts.prebuilt import (
        GetCardNumberResult,
        card_number_spec,
        dtmf_spec,
        security_code_spec,
    )

    group = Interpreter(compile_chart([implicit_task("card"), implicit_task("code")]))
    group.start()
    group.handle(TaskReturned(GetCardNumberResult("Visa", "4111111111111111")))
    code = Interpreter(compile_chart(security_code_spec(True)), logger=flow_logger)
    code.start()
    code.handle(ToolCalled("update_security_code", {"security_code": "737"}))
    code.handle(UserSpoke("seven three seven"))
    code.handle(ToolCalled("confirm_security_code", {"repeated_security_code": "737"}))
    assert code.done
    card = Interpreter(compile_chart(card_number_spec()))
    card.start()
    card.handle(ToolCalled("update_card_number", {"card_number": 4111111111111111}))
    card.handle(ToolCalled("update_card_number", {"card_number": ["Ada Lovelace 2718"]}))
    keys = Interpreter(compile_chart(dtmf_spec(4)))
    keys.start()
    for digit in "9876":
        keys.handle(DtmfReceived(digit))
    assert keys.done


_RAW = ("4111", "737", "9876", "Lovelace", "'9'", '"9"', "'8'", '"8"')


def test_an_application_structlog_chain_without_redaction_shows_no_personal_value() -> None:
    with logs_captured("structlog-console") as logged:
        _leaky_calls()
    text = logged()
    assert "args={'result': '[redacted]'}" in text  # the field keeps its name
    assert "args={'repeated': {'security_code': '[redacted]'}}" in text
    assert "args={'digit': '[redacted]'}" in text
    # the refusal names the field and the rule; the value is not echoed at all
    assert "reason='card_number must be text, got an int (private, not shown)'" in text
    assert not [raw for raw in _RAW if raw in text], text


def test_stdlib_logging_at_debug_shows_no_personal_value(caplog: pytest.LogCaptureFixture) -> None:
    structlog.reset_defaults()
    with caplog.at_level(logging.DEBUG):
        _leaky_calls()
    text = "\n".join(r.getMessage() for r in caplog.records)
    text = re.sub(r'"timestamp": "[^"]*"', "", text)  # its digits may hold "737" by chance
    assert '"args": {"result": "[redacted]"}' in text
    assert not [raw for raw in _RAW if raw in text], text


def test_a_logger_given_to_the_interpreter_is_redacted_too() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.records: list[tuple[str, dict[str, object]]] = []

        def info(self, event: str, **fields: object) -> None:
            self.records.append((event, fields))

        def warning(self, event: str, **fields: object) -> None:
            self.records.append((event, fields))

    recorder = Recorder()
    _leaky_calls(recorder)
    assert recorder.records[0][1]["args"] == {"values": {"security_code": "[redacted]"}}
    assert "737" not in repr(recorder.records)


def test_records_keep_field_names_and_show_objects_by_type_only() -> None:
    from taskchart.runtime.logs import redact_fields, scrub

    class Secret:
        def __repr__(self) -> str:
            return "Secret('Ada')"

    fields = {"n": 3, "pin": 12345, "obj": Secret(), "err": ValueError("Ada said 4242"), "ok": None}
    assert redact_fields(fields, scrubbed=["Ada"]) == {
        "n": 3,
        "pin": "[digits]",
        "obj": "<Secret>",
        "err": "ValueError: [redacted] said [digits]",
        "ok": None,
    }
    assert scrub("Adam met Ada", ["Ada"]) == "Adam met [redacted]"
