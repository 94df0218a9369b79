"""Host-side tools of the gateway attacks: a real Gateway on loopback, raw HTTP, and upstreams that show what
reached them (the scripted model, or the real Anthropic forwarding code talking to a local stand-in API).
"""

from __future__ import annotations

import http.client
import json
import threading
from pathlib import Path
from urllib.parse import urlsplit

from wave_sandbox.gateway import Gateway
from wave_sandbox.gateway.script_file import load_script
from wave_sandbox.gateway.scripted import ScriptedUpstream
from wave_sandbox.gateway.upstream import UpstreamRequest, UpstreamResponse

MODEL = "claude-sonnet-4-5"
STEP_MAX_TOKENS = 1024


class RecordingScriptedUpstream:
    """The scripted model, keeping every request that reached it (what the provider would have seen)."""

    def __init__(self, folder: Path, script_text: str = "steps: {}\n") -> None:
        script = folder / "script.yaml"
        script.write_text(script_text)
        self._scripted = ScriptedUpstream(load_script(script))
        self.description, self.secrets = self._scripted.description, self._scripted.secrets
        self.received: list[UpstreamRequest] = []
        self._lock = threading.Lock()

    def send(self, request: UpstreamRequest) -> UpstreamResponse:
        with self._lock:
            self.received.append(request)
        return self._scripted.send(request)


def message_request(text: str = "hi", **extra) -> dict:
    return {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": text}]} | extra


def raw_post(
    gateway: Gateway, body: bytes | dict, token: str, path: str = "/v1/messages", headers: dict | None = None,
    timeout_s: float = 30,
) -> tuple[int, dict]:  # fmt: skip
    """POST ``body`` with a fresh connection; the status and the decoded JSON answer."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    address = urlsplit(gateway.base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout_s)
    try:
        connection.request("POST", path, body=data, headers={"x-api-key": token, **(headers or {})})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def transcript_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def error_message(answer: dict) -> str:
    return answer["error"]["message"]
