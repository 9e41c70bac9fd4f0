"""The demo understands which task the caller names, and ends cleanly on Ctrl-C and Ctrl-D."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from taskchart.adapters.console.cli import app
from typer.testing import CliRunner

TASKCHART = str(Path(sys.executable).with_name("taskchart"))
INTRO = "I'm Ada Lovelace, a mathematician"


def results_of(output: str) -> dict[str, object]:
    return json.loads(output.split("\nresults:\n", 1)[1])  # type: ignore[no-any-return]


def demo(*lines: str) -> str:
    result = CliRunner().invoke(app, ["demo"], input="\n".join(lines) + "\n")
    return result.output


def test_going_back_from_the_first_task_is_refused_with_a_sentence() -> None:
    out = demo("go back", INTRO, "ada at example dot com", "yes", "yes by bus")
    assert (
        " agent > There is nothing to go back to: this is the first step. "
        "Let's go on with the name and introduction.\n"
    ) in out
    assert "record_intro" not in out.split(INTRO)[0]  # nothing was recorded from "go back"
    assert results_of(out)["intro_task"] == {"name": "Ada Lovelace", "intro": "a mathematician"}


def test_naming_the_current_task_corrects_it_instead_of_going_back() -> None:
    out = demo(
        INTRO,
        "ada at example dot com",
        "go back, my email is wrong",
        "bob at example dot com",
        "yes",
        "yes by bus",
    )
    assert "correct_email_address(): email_task__confirming → email_task__collecting" in out
    assert "back to intro_task" not in out
    assert results_of(out)["email_task"] == {"email_address": "bob@example.com"}


def test_naming_an_earlier_task_goes_back_to_it() -> None:
    out = demo(INTRO, "ada at example dot com", "yes", "my email is wrong")
    assert "↺ back to email_task" in out


def test_naming_a_later_task_says_it_comes_later() -> None:
    out = demo("go back, my commute is wrong")
    assert (
        " agent > We have not come to the commute flexibility yet; we will, after the name and introduction.\n"
        in out
    )


def test_ctrl_c_prints_the_results_so_far() -> None:
    proc = subprocess.Popen(
        [TASKCHART, "demo", "-q"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(INTRO + "\n")
    proc.stdin.flush()
    seen = ""
    deadline = time.monotonic() + 60
    while "Ask for the candidate's email address." not in seen and time.monotonic() < deadline:
        seen += proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert results_of(seen + out) == {
        "intro_task": {"name": "Ada Lovelace", "intro": "a mathematician"},
        "email_task": {"error": "SessionClosed", "message": "the user interrupted"},
    }


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_the_interactive_demo_has_line_editing() -> None:
    """Ctrl-D in the middle of a line edits (readline) instead of cutting the line."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: the real command on a terminal
        os.execv(TASKCHART, [TASKCHART, "demo", "-q"])
    out = b""

    def read_until(marker: bytes) -> None:
        nonlocal out
        deadline = time.monotonic() + 60
        while marker not in out and time.monotonic() < deadline:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return

    read_until(b"you > ")
    os.write(fd, INTRO.encode() + b"\r")
    read_until(b"email address.")
    os.write(fd, b"ada at exa\x04\x04")  # Ctrl-D twice at the end of a line not empty
    time.sleep(0.3)
    os.write(fd, b"mple dot com\r")
    read_until(b"confirm.")
    os.write(fd, b"quit\r")
    read_until(b"}\r\n}")
    os.close(fd)
    os.waitpid(pid, 0)
    assert b"(email_address: ada@example.com)" in out, out.decode(errors="replace")
