"""What the gateway keeps of a relayed response: its transcript form and the tokens it used."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from wave_sandbox.gateway.sse import SSEParser
from wave_sandbox.gateway.upstream import UpstreamResponse
from wave_sandbox.gateway.usage import StreamUsage, Usage, usage_from_message_json

__all__ = ["ResponseRecorder"]


class ResponseRecorder:
    """Watches the bytes relayed to the client; when the response ends, reports it once.

    The report (tokens to the ledger, a line to the transcript) is made before the last bytes go
    out, so a client that has its whole answer always finds it counted.
    """

    def __init__(self, response: UpstreamResponse, report: Callable[[Any, Usage], None]) -> None:
        self._is_stream = response.is_stream
        self._report: Callable[[Any, Usage], None] | None = report
        self._body = b""
        self._parser = SSEParser()
        self._stream_usage = StreamUsage()
        self._events: list[dict[str, Any]] = []

    def observe(self, chunk: bytes) -> None:
        if not self._is_stream:
            self._body += chunk
            return
        for event in self._parser.feed(chunk):
            self._events.append(event.as_record())
            self._stream_usage.observe(self._events[-1]["data"])

    def finish(self) -> None:
        """Report the response as the transcript keeps it and the tokens it used (only the first call)."""
        report, self._report = self._report, None
        if report is not None:
            report(*self._transcript_form_and_usage())

    def _transcript_form_and_usage(self) -> tuple[Any, Usage]:
        if self._is_stream:
            self._events.extend(event.as_record() for event in self._parser.finish())
            return self._events, self._stream_usage.total()
        try:
            body = json.loads(self._body) if self._body else None
        except ValueError:
            body = self._body.decode("utf-8", "replace")
        return body, usage_from_message_json(body)
