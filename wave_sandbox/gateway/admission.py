"""Admission: what the gateway decides about one authenticated request before any byte goes upstream.

Every authenticated request is counted first, so refused ones count against the step's request
budget too. Then, in order: a body that could not be read, too many requests of the step at once, a
budget already gone, a query string or header that is not allowed, a body that is not JSON, a field
outside the allowlist (``request_allowlist``), another model than the step's, and finally the token
reservation (input estimate plus max_tokens, and what they may cost at the step's model's price)
against the step's and the run's budgets. A refusal is
kept in the transcript only as a digest, a size and the first KiB of its body. An admitted request is
rebuilt from its allowed fields, and only that goes upstream.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from wave_sandbox.gateway.budgets import BudgetLedger, Reservation
from wave_sandbox.gateway.prices import PER_TOKENS, ModelPrice
from wave_sandbox.gateway.request_allowlist import allowed_request, find_forbidden, forbidden_header
from wave_sandbox.gateway.transcripts import capped_body
from wave_sandbox.gateway.upstream import COUNT_TOKENS_PATH, UpstreamResponse, error_response

__all__ = ["StepRules", "IncomingRequest", "Admitted", "Refused", "admit_request", "estimate_input_tokens"]

# Tokens are about four bytes of text; three per byte of JSON is on the safe side for any text.
BYTES_PER_TOKEN_ESTIMATE = 3
# Deeper JSON is no request of ours, and would make the parser, the encoder or the transcript recurse too far.
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class StepRules:
    """What one step may ask for: its model, its persona's max_tokens and its tools (None: no restriction),
    and the price of its model (None: unpriced)."""

    model: str | None = None
    max_tokens: int | None = None
    tools: tuple[str, ...] | None = None
    price: ModelPrice | None = None


@dataclass(frozen=True)
class IncomingRequest:
    """An authenticated request as read: ``body`` is the bytes, or the error to send when it was not read."""

    step_id: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes | UpstreamResponse
    declared_bytes: int
    over_step_limit: bool = False


@dataclass(frozen=True)
class Refused:
    """The gateway's own answer, what the transcript keeps of the request, and whether to close."""

    response: UpstreamResponse
    request_note: dict[str, Any]
    close: bool = False


@dataclass(frozen=True)
class Admitted:
    """A request to forward: its rebuilt payload and body, the headers it may carry, its reservation."""

    payload: dict[str, Any]
    body: bytes
    headers: dict[str, str]
    reservation: Reservation


def estimate_input_tokens(body: bytes) -> int:
    """A generous estimate of the input tokens of a request body."""
    return len(body) // BYTES_PER_TOKEN_ESTIMATE + 1


def _refused(status: int, error_type: str, reason: str, body: bytes) -> Refused:
    response = error_response(status, error_type, f"wave-sandbox: {reason}")
    return Refused(response, capped_body(body, f"refused: {reason}"))


def admit_request(ledger: BudgetLedger, rules: StepRules, incoming: IncomingRequest) -> Admitted | Refused:
    """Count the request, then admit it (tokens reserved) or say why not."""
    budget_refusal = ledger.count_request(incoming.step_id)
    if isinstance(incoming.body, UpstreamResponse):
        note = {"omitted": "the request body was not read", "bytes": incoming.declared_bytes}
        return Refused(incoming.body, note, close=True)
    if incoming.over_step_limit:
        reason = f"step {incoming.step_id} has as many requests in flight as it may; wait for an answer first"
        return Refused(error_response(429, "rate_limit_error", f"wave-sandbox: {reason}"), {"omitted": reason,
                       "bytes": incoming.declared_bytes}, close=True)  # fmt: skip
    if budget_refusal is not None:
        return _refused(403, "permission_error", budget_refusal, incoming.body)
    return _check_request(ledger, rules, incoming, incoming.body)


def _check_request(ledger: BudgetLedger, rules: StepRules, incoming: IncomingRequest, body: bytes) -> Admitted | Refused:
    header_problem = _header_problem(incoming)
    if header_problem is not None:
        return _refused(403, "permission_error", header_problem, body)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        problem = f"the request body is not valid JSON: {exc}"
        return _refused(400, "invalid_request_error", problem, body)
    if _deeper_than(payload, MAX_JSON_DEPTH):
        return _refused(400, "invalid_request_error", f"the request nests deeper than {MAX_JSON_DEPTH} levels", body)
    counting = incoming.path == COUNT_TOKENS_PATH
    problem = (
        find_forbidden(payload, counting, rules.max_tokens)
        or _model_problem(incoming.step_id, rules, payload)
        or _tools_problem(incoming.step_id, rules, payload)
    )
    if problem is not None:
        return _refused(403, "permission_error", problem, body)
    return _reserve(ledger, rules, incoming, allowed_request(payload, counting), counting, body)


def _header_problem(incoming: IncomingRequest) -> str | None:
    if incoming.query:
        return f"query parameters ({incoming.query[:80]}) are not allowed; the gateway serves the plain endpoints"
    problems = (forbidden_header(name, value) for name, value in incoming.headers)
    return next((problem for problem in problems if problem is not None), None)


def _model_problem(step_id: str, rules: StepRules, payload: dict[str, Any]) -> str | None:
    asked = payload.get("model")
    if rules.model is None or asked is None or asked == rules.model:
        return None
    return f"step {step_id} may only use the model {rules.model}, not {str(asked)[:120]}"


def _tools_problem(step_id: str, rules: StepRules, payload: dict[str, Any]) -> str | None:
    if rules.tools is None:
        return None
    for tool in payload.get("tools") or ():
        if tool.get("name") not in rules.tools:
            granted = ", ".join(rules.tools) or "none"
            return f"the tool {str(tool.get('name'))[:80]!r} is not one of step {step_id}'s tools ({granted})"
    return None


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels deep (walked without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _reserve(
    ledger: BudgetLedger, rules: StepRules, incoming: IncomingRequest, payload: dict[str, Any], counting: bool,
    body: bytes,
) -> Admitted | Refused:
    forwarded = json.dumps(payload, ensure_ascii=False).encode()
    max_tokens = payload.get("max_tokens")
    output_tokens = 0 if counting or not isinstance(max_tokens, int) else max_tokens
    input_tokens = 0 if counting else estimate_input_tokens(forwarded)  # counting tokens costs none
    if not counting and rules.price is None and ledger.limits_cost(incoming.step_id):
        unpriced = (f"the model {rules.model or payload.get('model')} has no price, so a cost budget cannot bound "
                    "it; add its prices under `prices:` in your settings")  # fmt: skip
        return _refused(403, "permission_error", unpriced, body)
    cost = _most_cost(rules.price, input_tokens, output_tokens)
    reservation = ledger.reserve(incoming.step_id, input_tokens + output_tokens, cost)
    if isinstance(reservation, str):
        return _refused(403, "permission_error", reservation, body)
    version = next((value.strip() for name, value in incoming.headers if name.lower() == "anthropic-version"), None)
    headers = {"anthropic-version": version} if version else {}
    return Admitted(payload, forwarded, headers, reservation)


def _most_cost(price: ModelPrice | None, input_tokens: int, output_tokens: int) -> float:
    """The most a request can cost: every input token at the dearest input rate, all of max_tokens."""
    if price is None:
        return 0.0
    return input_tokens * price.most_per_input_token() + output_tokens * price.output / PER_TOKENS
