"""The settings of the three-line generated TestCase: --taskchart-examples, values=."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import strategies as st
from taskchart.runtime.testing import flow_state_machine
from taskchart.statecharts import Confirmation, Field, compile_chart, declarative_task

TEST_FILE = """
from taskchart.runtime.testing import flow_state_machine
from taskchart.statecharts.prebuilt.gallery import name
Machine = flow_state_machine(name)
TestName = Machine.TestCase
RUNS = []
_init = Machine.__init__
def _counted(self):  # one machine per example
    RUNS.append(1)
    _init(self)
Machine.__init__ = _counted

def test_zz_budget():
    print(f"\\nBUDGET {TestName.settings.max_examples} RAN {len(RUNS)}")
"""


def _order_id(value: str) -> str:
    if not isinstance(value, str) or len(value) != 10 or not value.startswith("ORD-"):
        raise ValueError("an order id looks like ORD-123456")
    return value


ORDER = compile_chart(
    declarative_task(
        "order", fields=[Field("order_id", normalize=_order_id)], confirmation=Confirmation.NEVER
    )
)


@pytest.mark.parametrize("examples", [None, "3"])
def test_taskchart_examples_sets_the_generated_testcase(
    tmp_path: Path, examples: str | None
) -> None:
    (tmp_path / "test_flow.py").write_text(TEST_FILE)
    env = {k: v for k, v in os.environ.items() if k != "TASKCHART_EXAMPLES"}
    args = [sys.executable, "-m", "pytest", "-s", "-q", "-p", "no:cacheprovider", "test_flow.py"]
    if examples is not None:
        args += ["--taskchart-examples", examples]
    proc = subprocess.run(
        args, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("BUDGET"))
    _, budget, _, ran = line.split()
    assert int(budget) == (3 if examples else 100)
    # the examples, plus a few hypothesis runs around them (its CI profile, derandomized,
    # replays more): far below the default budget either way
    assert int(ran) <= 10 if examples else int(ran) > 20


def test_the_environment_variable_overrides_an_explicit_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TASKCHART_EXAMPLES", "7")
    assert flow_state_machine(ORDER, max_examples=50).TestCase.settings.max_examples == 7
    monkeypatch.setenv("TASKCHART_EXAMPLES", "many")
    with pytest.raises(ValueError, match="TASKCHART_EXAMPLES must be a positive whole number"):
        flow_state_machine(ORDER)


def test_a_field_no_pool_value_fits_names_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKCHART_EXAMPLES", "5")
    with pytest.raises(AssertionError) as info:
        flow_state_machine(ORDER, noise=False).TestCase().runTest()
    assert (
        "no built-in value is valid for order.order_id: pass values={'order.order_id': "
        "st.sampled_from([...])} (hypothesis strategies of valid values) to flow_state_machine"
    ) in str(info.value)
    fixed = flow_state_machine(ORDER, values={"order.order_id": st.sampled_from(["ORD-123456"])})
    fixed.TestCase().runTest()  # passes with the values given
