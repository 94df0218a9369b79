import time
import urllib.request

import pytest

from tests.unit.agent.fake_messages_api import FakeMessagesApi, message_reply, text_block
from tests.unit.agent.process_state import process_ends_within
from wave_sandbox.agent.deadline import StepTimeout, wall_clock_limit
from wave_sandbox.agent.tools import execute_tool
from wave_sandbox.agent.tools.registry import TOOL_NAMES


def test_the_wall_clock_interrupts_a_command_and_kills_its_process_group(context, workdir):
    began = time.monotonic()
    with pytest.raises(StepTimeout):
        with wall_clock_limit(time.monotonic() + 0.5):  # time for bash to start and write bg.pid
            command = {"command": "sleep 30 & echo $! > bg.pid; sleep 30", "timeout_s": 60}
            execute_tool("bash", command, TOOL_NAMES, context)
    assert time.monotonic() - began < 3
    assert process_ends_within(int((workdir / "bg.pid").read_text()))


def test_the_wall_clock_interrupts_a_model_request_in_flight():
    slow = message_reply(text_block("too late"))
    slow.delay_s = 30
    api = FakeMessagesApi([slow]).start()
    try:
        began = time.monotonic()
        with pytest.raises(StepTimeout):
            with wall_clock_limit(time.monotonic() + 0.2):
                urllib.request.urlopen(urllib.request.Request(f"{api.base_url}/v1/messages", data=b"{}"), timeout=60)
        assert time.monotonic() - began < 3
    finally:
        api.stop()


def test_the_alarm_is_disarmed_when_the_step_ends_in_time():
    with wall_clock_limit(time.monotonic() + 0.1):
        pass
    time.sleep(0.2)  # a StepTimeout here would fail the test
