"""Model requests the host makes itself, through the gateway's own admission, budget and transcript.

An `llm_judge` contract is one tool-less model call. It is made here, on the host, with the run's
upstream (the operator's key never leaves the gateway), under an account registered like a step's:
the same admission checks (model, max_tokens, no tools), the same reservation against the run's token
budget, the same transcript. So a judge is paid for out of the run's budget like any step.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from wave_sandbox.gateway.admission import Admitted, IncomingRequest, admit_request
from wave_sandbox.gateway.usage import Usage

if TYPE_CHECKING:
    from wave_sandbox.gateway.server import Gateway

MESSAGES_PATH = "/v1/messages"
HOST_HEADERS = [("content-type", "application/json"), ("anthropic-version", "2023-06-01")]


def ask_once(gateway: Gateway, account_id: str, payload: dict[str, Any]) -> tuple[int, Any]:
    """Admit, send and settle one request of ``account_id``; the answer as parsed JSON (or an error body)."""
    body = json.dumps(payload).encode()
    started = time.monotonic()
    incoming = IncomingRequest(account_id, MESSAGES_PATH, "", list(HOST_HEADERS), body, len(body))
    decision = admit_request(gateway._ledger, gateway._rules[account_id], incoming)
    if not isinstance(decision, Admitted):
        answer = json.loads(decision.response.body)
        gateway._record(account_id, MESSAGES_PATH, decision.request_note, decision.response.status, answer, Usage(), started)
        return decision.response.status, answer
    response = gateway._send_upstream(account_id, MESSAGES_PATH, decision)
    try:
        raw = response.body if not response.is_stream else b"".join(response.chunks or [])
    finally:
        response.close()
    answer = _parsed(raw)
    usage = _usage_of(answer)
    gateway._ledger.settle(decision.reservation, usage)
    gateway._record(account_id, MESSAGES_PATH, decision.payload, response.status, answer, usage, started)
    return response.status, answer


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return {"type": "error", "error": {"type": "api_error", "message": "the upstream's answer is not JSON"}}


def _usage_of(answer: Any) -> Usage:
    usage = answer.get("usage") if isinstance(answer, dict) else None
    if not isinstance(usage, dict):
        return Usage()
    numbers = {key: usage.get(key) if isinstance(usage.get(key), int) else 0 for key in ("input_tokens", "output_tokens")}
    return Usage(input_tokens=numbers["input_tokens"], output_tokens=numbers["output_tokens"])
