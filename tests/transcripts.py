"""Read a transcript line's response as one Messages API message, whether it was streamed or not.

The agent streams its requests, so the gateway keeps a streamed response as its events
(`[{"event", "data"}, ...]`); a test wants the message those events make up.
"""

from __future__ import annotations

from typing import Any

from wave_sandbox.engine.step_activity import streamed_content


def response_message(response: Any) -> dict:
    """`{"type": "message", "content", "usage", "stop_reason"}` of a message or of its streamed events."""
    if not isinstance(response, list):
        return response
    message: dict = {"type": "message", "content": streamed_content(response), "usage": {}, "stop_reason": None}
    for record in response:
        data = record.get("data") if isinstance(record, dict) else None
        if not isinstance(data, dict):
            continue
        if data.get("type") == "message_start":
            started = data.get("message") or {}
            message.update({key: started[key] for key in ("id", "model", "role") if key in started})
            message["usage"].update(started.get("usage") or {})
        elif data.get("type") == "message_delta":
            message["stop_reason"] = (data.get("delta") or {}).get("stop_reason")
            message["usage"].update({key: value for key, value in (data.get("usage") or {}).items() if value})
        elif data.get("type") == "error":
            message = {"type": "error", "error": data.get("error")}
    return message
