"""Transcripts: appended whole from many threads, scrubbed of every secret."""

from __future__ import annotations

import json
import threading

from wave_sandbox.gateway.tokens import StepTokens
from wave_sandbox.gateway.transcripts import TranscriptWriter, exchange_record, redact_secrets


def test_secrets_are_replaced_in_plain_and_json_escaped_form_but_short_values_are_left_alone():
    secret = 'sk-ant-with"quote'
    text = json.dumps({"a": secret, "b": f"prefix {secret} suffix", "c": "x marks the spot"})

    scrubbed = redact_secrets(text, [secret, "x"])

    assert "sk-ant" not in scrubbed
    assert json.loads(scrubbed) == {"a": "[redacted]", "b": "prefix [redacted] suffix", "c": "x marks the spot"}


def test_lines_written_from_many_threads_stay_whole_and_tokens_issued_later_are_scrubbed(tmp_path):
    tokens = StepTokens()
    writer = TranscriptWriter(tokens.ever_issued)
    path = tmp_path / "steps" / "s" / "transcript.jsonl"
    late_token = tokens.issue("s")
    big_text = "y" * 20_000

    record = exchange_record("s", "/v1/messages", {"text": big_text, "token": late_token}, 200, None, {}, 1)

    def write_many() -> None:
        for _ in range(20):
            writer.append(path, record)

    threads = [threading.Thread(target=write_many) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = path.read_text().splitlines()
    assert len(lines) == 200
    assert all(json.loads(line)["request"] == {"text": big_text, "token": "[redacted]"} for line in lines)


def test_a_revoked_token_stops_working_but_is_still_scrubbed():
    tokens = StepTokens()
    token = tokens.issue("triage")
    tokens.revoke("triage")

    assert tokens.step_for(token) is None
    assert token in tokens.ever_issued()
    assert tokens.step_for("") is None and tokens.step_for(None) is None
