"""What importing taskchart loads: heavy libraries wait until a flow needs them."""

from __future__ import annotations

import json
import subprocess
import sys

#: Libraries a worker should not pay for at start: validators (loaded on first
#: validation), python-statemachine (loaded when a flow runs on it), and structlog,
#: whose import loads rich and pygments (loaded for the first record that is written).
DEFERRED = (
    "email_validator",
    "phonenumbers",
    "pycountry",
    "regex",
    "statemachine",
    "structlog",
    "rich",
    "pygments",
)


def _loaded_after(code: str, names: tuple[str, ...] = DEFERRED) -> list[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps([n for n in {list(names)!r} if n in sys.modules]))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = json.loads(out.stdout.splitlines()[-1])
    return loaded


def test_importing_the_livekit_adapter_loads_no_validator_structlog_or_statemachine() -> None:
    code = "import taskchart.adapters.livekit as lk\nlk.GetEmailTask, lk.TaskGroup, lk.GetDtmfTask"
    assert _loaded_after(code) == []


def test_pure_packages_load_no_validator_not_even_idna() -> None:
    code = "import taskchart.runtime, taskchart.statecharts.prebuilt"
    assert _loaded_after(code, (*DEFERRED, "idna")) == []


def test_a_flow_loads_only_what_it_uses() -> None:
    code = (
        "from taskchart.runtime import Interpreter, ToolCalled\n"
        "from taskchart.statecharts import compile_chart\n"
        "from taskchart.statecharts.prebuilt import email_spec\n"
        "flow = Interpreter(compile_chart(email_spec()))\n"
        "flow.start()\n"
        "step = flow.handle(ToolCalled('update_email_address', {'email': 'ada at example dot com'}))\n"
        "assert step.ok and flow.result.email_address == 'ada@example.com', step\n"
    )
    # the email is validated (email_validator loads); INFO records are below the
    # unconfigured logger's level, so structlog and rich stay out
    assert _loaded_after(code) == ["email_validator"]
