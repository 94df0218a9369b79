"""One redactor for the gateway's transcripts and the engine's last pass over a run's files."""

from __future__ import annotations

import json

from wave_sandbox.engine.redaction import host_secret_values, redact_file
from wave_sandbox.gateway import transcripts
from wave_sandbox.secret_redaction import REDACTED, redact_secret_bytes, redact_secrets

SECRET = 'sk-ant-"quoted\\part"-0123456789'


def test_the_gateway_and_the_engine_use_the_same_redactor_and_marker():
    assert transcripts.redact_secrets is redact_secrets and transcripts.REDACTED == REDACTED == "[redacted]"


def test_text_and_bytes_lose_the_secret_and_its_json_escaped_form():
    text = f"raw {SECRET} json {json.dumps({'k': SECRET})}"
    assert redact_secrets(text, [SECRET]) == 'raw [redacted] json {"k": "[redacted]"}'
    assert redact_secret_bytes(text.encode(), [SECRET]) == redact_secrets(text, [SECRET]).encode()


def test_short_values_are_left_alone_and_longer_secrets_go_first():
    assert redact_secrets("x marks the spot", ["x"]) == "x marks the spot"
    assert redact_secrets("abcdefgh-ijkl", ["abcdefgh", "abcdefgh-ijkl"]) == REDACTED


def test_the_engine_pass_redacts_a_run_file_with_the_one_marker(tmp_path):
    secrets = host_secret_values({"MY_API_TOKEN": SECRET, "HOME": "/home/someone-long", "SHORT_KEY": "abc"})
    assert secrets == [SECRET]
    written = tmp_path / "run.json"
    written.write_text(json.dumps({"input": f"token {SECRET}"}))
    assert redact_file(written, secrets)
    assert json.loads(written.read_text()) == {"input": "token [redacted]"}
    assert not redact_file(written, secrets)
