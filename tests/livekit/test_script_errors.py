"""A script that runs out after a refused call shows what the session answered."""

from __future__ import annotations

import pytest

pytest.importorskip("livekit.agents")

from taskchart.adapters.livekit import GetEmailTask
from taskchart.adapters.livekit.testing import Call, OfflineSession, ScriptError


async def test_a_misspelled_argument_shows_the_tool_error() -> None:
    script = ["What's your email?", Call("update_email_address", emial="ada@example.com")]
    async with OfflineSession(GetEmailTask(), script) as offline:
        with pytest.raises(ScriptError) as raised:
            await offline.say("ada@example.com")
    message = str(raised.value)
    assert message.startswith("script exhausted after 2 step(s): LLM request #2")
    assert message.endswith(
        "; the session answered update_email_address: update_email_address got unexpected "
        "argument(s) ['emial']; it takes ['email']"
    )
