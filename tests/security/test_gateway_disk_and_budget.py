"""The host's disk and the operator's bill through the gateway: bodies that are refused, transcripts that grow,
and concurrent requests racing for one token budget. Each attack is sent to a real Gateway on loopback with
the scripted model behind it and a real HTTP client.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time

from tests.security.gateway_kit import (
    MODEL,
    RecordingScriptedUpstream,
    error_message,
    message_request,
    raw_post,
    transcript_lines,
)
from wave_sandbox.gateway import Budget, Gateway
from wave_sandbox.gateway.connections import ConnectionLimits
from wave_sandbox.gateway.server import DEFAULT_MAX_REQUEST_BYTES

MIB = 1024 * 1024
LARGE_TEXT = "a" * (3 * MIB)  # under the request cap, large in a transcript


def test_fifty_megabytes_of_bodies_that_are_not_json_leave_only_capped_notes(tmp_path):
    upstream = RecordingScriptedUpstream(tmp_path)
    transcript = tmp_path / "t.jsonl"
    body = b"\x01" * DEFAULT_MAX_REQUEST_BYTES
    with Gateway(upstream, "127.0.0.1") as gateway:
        token = gateway.register_step("flood", transcript, Budget(), model=MODEL)
        statuses = [raw_post(gateway, body, token)[0] for _ in range(13)]

    sent = 13 * len(body)
    records = transcript_lines(transcript)
    assert sent > 50 * MIB and statuses == [400] * 13
    assert upstream.received == []
    assert gateway.usage("flood").requests == 13  # refused, and counted
    assert transcript.stat().st_size < 13 * 8 * 1024, f"{transcript.stat().st_size} bytes kept of {sent} sent"
    assert {record["request"]["sha256"] for record in records} == {hashlib.sha256(body).hexdigest()}
    assert all(record["request"]["bytes"] == len(body) and len(record["request"]["head"]) == 1024 for record in records)


def test_json_nested_past_the_parser_or_the_depth_cap_is_refused_and_kept_capped(tmp_path):
    transcript = tmp_path / "t.jsonl"
    past_the_parser = b"[" * 200_000 + b"]" * 200_000
    nested: list = []
    for _ in range(80):  # well within the parser, past what any request of ours holds
        nested = [nested]
    past_the_cap = message_request() | {"tools": [{"name": "bash", "input_schema": {"type": "object", "a": nested}}]}
    upstream = RecordingScriptedUpstream(tmp_path)
    with Gateway(upstream, "127.0.0.1") as gateway:
        token = gateway.register_step("deep", transcript, Budget(), model=MODEL)
        answers = [raw_post(gateway, past_the_parser, token), raw_post(gateway, past_the_cap, token)]

    assert [status for status, _ in answers] == [400, 400]
    assert "not valid JSON" in error_message(answers[0][1]) and "nests deeper than 64" in error_message(answers[1][1])
    assert upstream.received == [] and gateway.usage("deep").requests == 2
    assert [record["request"]["bytes"] for record in transcript_lines(transcript)] == [400_000, len(json.dumps(past_the_cap))]


def test_a_body_over_the_request_cap_is_never_read_nor_kept(tmp_path):
    transcript = tmp_path / "t.jsonl"
    with Gateway(RecordingScriptedUpstream(tmp_path), "127.0.0.1") as gateway:
        token = gateway.register_step("flood", transcript, Budget(), model=MODEL)
        try:
            status = raw_post(gateway, b"\x01" * (60 * MIB), token)[0]
        except (BrokenPipeError, ConnectionResetError):
            status = None  # the gateway answered 413 and closed before the client finished sending

    [record] = transcript_lines(transcript)
    assert status in (413, None) and record["status"] == 413
    assert record["request"] == {"omitted": "the request body was not read", "bytes": 60 * MIB}
    assert transcript.stat().st_size < 2048 and gateway.usage("flood").requests == 1


def test_requests_for_the_wrong_model_are_counted_and_kept_capped(tmp_path):
    upstream = RecordingScriptedUpstream(tmp_path)
    transcript = tmp_path / "t.jsonl"
    body = message_request("x" * (2 * MIB)) | {"model": "claude-opus-4-1"}
    with Gateway(upstream, "127.0.0.1") as gateway:
        token = gateway.register_step("pinned", transcript, Budget(max_requests=3), model=MODEL)
        answers = [raw_post(gateway, body, token) for _ in range(5)]

    assert [status for status, _ in answers] == [403] * 5
    assert error_message(answers[0][1]) == f"wave-sandbox: step pinned may only use the model {MODEL}, not claude-opus-4-1"
    assert error_message(answers[4][1]) == "wave-sandbox: step pinned went over its budget of 3 requests"
    assert upstream.received == []
    assert gateway.usage("pinned").requests == 5
    assert transcript.stat().st_size < 5 * 4096
    assert all(record["request"]["bytes"] > 2 * MIB for record in transcript_lines(transcript))


def test_the_step_transcript_cap_stops_the_step_with_one_clear_line(tmp_path):
    transcript = tmp_path / "t.jsonl"
    cap = 8 * MIB
    with Gateway(RecordingScriptedUpstream(tmp_path), "127.0.0.1", max_step_transcript_bytes=cap) as gateway:
        token = gateway.register_step("writer", transcript, Budget(), model=MODEL)
        statuses = [raw_post(gateway, message_request(LARGE_TEXT), token)[0] for _ in range(3)]
        status, answer = raw_post(gateway, message_request(LARGE_TEXT), token)

    failure = gateway.step_failure("writer")
    assert statuses == [200, 200, 200] and status == 403  # the third exchange did not fit: the fourth is refused
    assert failure.startswith("step writer: its transcript reached its cap of 8.0 MiB (a 3.0 MiB exchange after 6.0 MiB)")
    assert "\n" not in failure and error_message(answer) == f"wave-sandbox: {failure}"
    assert transcript.stat().st_size <= cap
    assert [record.get("status") for record in transcript_lines(transcript)] == [200, 200, None, 403]


def test_the_run_transcript_cap_stops_every_step(tmp_path):
    with Gateway(RecordingScriptedUpstream(tmp_path), "127.0.0.1", max_run_transcript_bytes=10 * MIB) as gateway:
        first = gateway.register_step("first", tmp_path / "first.jsonl", Budget(), model=MODEL)
        second = gateway.register_step("second", tmp_path / "second.jsonl", Budget(), model=MODEL)
        answered = [raw_post(gateway, message_request(LARGE_TEXT), step)[0] for step in (first, first, second, second)]
        refused = raw_post(gateway, message_request("small"), first)

    assert answered == [200] * 4 and refused[0] == 403  # the fourth exchange did not fit in the run's 10 MiB
    assert gateway.step_failure("second") == (
        "step second was stopped: the run's transcripts reached their cap of 10.0 MiB; the gateway stopped the run"
    )
    assert gateway.step_failure("first").startswith("step first was stopped: the run's transcripts reached their cap")
    total = sum(path.stat().st_size for path in tmp_path.glob("*.jsonl"))
    assert total <= 10 * MIB


def test_concurrent_large_requests_cannot_overshoot_the_step_budget(tmp_path):
    budget, concurrent, max_tokens = 4_000_000, 38, 1024
    script = "steps:\n  racer:\n" + '    - {delay_s: 1.0, content: [{type: text, text: "ok"}]}\n' * concurrent
    upstream = RecordingScriptedUpstream(tmp_path, script)
    body = message_request("a" * 3_000_000) | {"max_tokens": max_tokens}
    limits = ConnectionLimits(max_step_requests=concurrent, workers=concurrent)
    answers: list[tuple[int, dict]] = []
    committed: list[int] = []  # tokens used plus tokens held by requests in flight, sampled while they race
    with Gateway(upstream, "127.0.0.1", limits=limits) as gateway:
        token = gateway.register_step("racer", tmp_path / "t.jsonl", Budget(max_tokens=budget), model=MODEL)
        threads = [threading.Thread(target=lambda: answers.append(raw_post(gateway, body, token))) for _ in range(concurrent)]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            committed.append(gateway.usage("racer").total_tokens + gateway.held_tokens("racer"))
            time.sleep(0.005)

    used = gateway.usage("racer").total_tokens
    each = used // len(upstream.received)  # what one admitted request really used (its input is ~750k tokens)
    refusals = [error_message(answer) for status, answer in answers if status == 403]
    assert len(answers) == concurrent and len(upstream.received) <= budget // each, f"{len(upstream.received)} admitted"
    assert max(committed) <= budget, f"{max(committed)} tokens committed at once against {budget}"
    assert used <= budget and gateway.held_tokens("racer") == 0
    assert len(refusals) == concurrent - len(upstream.received)
    assert all("racer would go over its budget of 4000000 tokens" in message for message in refusals)
    assert gateway.usage("racer").requests == concurrent
