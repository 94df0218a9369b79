"""SSE: parsing however the bytes are split, and the event sequence of a scripted message."""

from __future__ import annotations

import json

from wave_sandbox.gateway.sse import SSEEvent, SSEParser, encode_sse_event, message_stream_events

WIRE = (
    b": keep-alive comment\r\n"
    b"event: message_start\r\ndata: {\"type\": \"message_start\"}\r\n\r\n"
    b"event: note\ndata: line one\ndata: line two\n\n"
    b"data: {\"type\": \"ping\"}\n\n"
)
EXPECTED = [
    SSEEvent("message_start", '{"type": "message_start"}'),
    SSEEvent("note", "line one\nline two"),
    SSEEvent(None, '{"type": "ping"}'),
]


def test_events_come_out_the_same_whether_fed_whole_or_byte_by_byte():
    whole = SSEParser().feed(WIRE)
    parser = SSEParser()
    piecewise = [event for index in range(len(WIRE)) for event in parser.feed(WIRE[index : index + 1])]

    assert whole == EXPECTED
    assert piecewise == EXPECTED


def test_a_stream_cut_before_its_blank_line_still_yields_its_last_event():
    parser = SSEParser()
    assert parser.feed(b"event: message_stop\ndata: {}") == []

    assert parser.finish() == [SSEEvent("message_stop", "{}")]


def test_encoded_events_parse_back_to_their_data():
    data = {"type": "content_block_delta", "delta": {"text": "héllo\nworld"}}

    (event,) = SSEParser().feed(encode_sse_event("content_block_delta", data))

    assert event.event == "content_block_delta"
    assert event.decoded_data() == data


def test_a_message_streams_as_start_blocks_delta_stop_and_reassembles_exactly():
    long_text = "word " * 40
    message = {
        "id": "msg_01", "type": "message", "role": "assistant", "model": "m", "stop_reason": "tool_use",
        "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 70},
        "content": [
            {"type": "text", "text": long_text},
            {"type": "tool_use", "id": "toolu_01", "name": "bash", "input": {"command": "echo ünïcode " * 10}},
        ],
    }

    events = list(message_stream_events(message))

    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert names[-2:] == ["message_delta", "message_stop"]
    assert all(name == data["type"] for name, data in events)
    deltas = [data["delta"] for name, data in events if name == "content_block_delta"]
    assert "".join(d["text"] for d in deltas if d["type"] == "text_delta") == long_text
    assert len([d for d in deltas if d["type"] == "text_delta"]) > 1
    tool_json = "".join(d["partial_json"] for d in deltas if d["type"] == "input_json_delta")
    assert json.loads(tool_json) == message["content"][1]["input"]
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    assert events[-2][1]["usage"] == {"output_tokens": 70}
    assert events[0][1]["message"]["content"] == [] and events[0][1]["message"]["usage"]["input_tokens"] == 10
