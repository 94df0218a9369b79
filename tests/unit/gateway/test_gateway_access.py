"""Who may use the gateway and how much: step tokens, request size, budgets, binding."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import anthropic
import pytest

from wave_sandbox.errors import GatewayError
from wave_sandbox.gateway import Budget, Gateway
from wave_sandbox.gateway.script_file import Script
from wave_sandbox.gateway.scripted import ScriptedUpstream

from .conftest import sdk_client, user_says

TWO_STEPS = """\
steps:
  triage: [[{type: text, text: "triage answer"}]]
  investigate: [[{type: text, text: "investigate answer"}]]
"""


def raw_post(gateway: Gateway, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    address = urlsplit(gateway.base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def ask(client: anthropic.Anthropic, text: str = "hi") -> str:
    return client.messages.create(model="m", max_tokens=16, messages=user_says(text)).content[0].text


def test_a_token_speaks_for_its_own_step_only(start_gateway, tmp_path):
    gateway = start_gateway(TWO_STEPS)
    triage_token = gateway.register_step("triage", tmp_path / "triage.jsonl")
    gateway.register_step("investigate", tmp_path / "investigate.jsonl")

    answer = ask(sdk_client(gateway, triage_token))

    assert answer == "triage answer"
    assert gateway.usage("triage").requests == 1
    assert gateway.usage("investigate").requests == 0
    assert not (tmp_path / "investigate.jsonl").exists()


def test_an_unknown_or_revoked_token_is_an_authentication_error(start_gateway, tmp_path):
    gateway = start_gateway(TWO_STEPS)
    token = gateway.register_step("triage", tmp_path / "t.jsonl")
    gateway.revoke_step("triage")

    for presented in (token, "sk-ant-guessed", token + "x"):
        with pytest.raises(anthropic.AuthenticationError) as caught:
            ask(sdk_client(gateway, presented))
        assert caught.value.body["error"]["type"] == "authentication_error"
    assert gateway.usage("triage").requests == 0
    assert not (tmp_path / "t.jsonl").exists()


def test_a_missing_token_gets_401_in_the_apis_error_shape(start_gateway, tmp_path):
    gateway = start_gateway()
    gateway.register_step("s", tmp_path / "t.jsonl")

    status, body = raw_post(gateway, "/v1/messages", b"{}", {"content-type": "application/json"})

    assert status == 401
    assert body["type"] == "error" and body["error"]["type"] == "authentication_error"
    assert "step token" in body["error"]["message"]


def test_re_registering_a_step_replaces_its_token(start_gateway, tmp_path):
    gateway = start_gateway(TWO_STEPS)
    old = gateway.register_step("triage", tmp_path / "t.jsonl")
    new = gateway.register_step("triage", tmp_path / "t.jsonl")

    with pytest.raises(anthropic.AuthenticationError):
        ask(sdk_client(gateway, old))
    assert ask(sdk_client(gateway, new)) == "triage answer"


def test_a_body_over_the_cap_is_refused_unread_with_413(start_gateway, tmp_path):
    gateway = start_gateway(max_request_bytes=2048)
    token = gateway.register_step("s", tmp_path / "t.jsonl")

    status, body = raw_post(gateway, "/v1/messages", b"x" * 4096, {"x-api-key": token})
    with pytest.raises(anthropic.APIStatusError) as caught:
        sdk_client(gateway, token).messages.create(model="m", max_tokens=8, messages=user_says("y" * 4096))

    assert status == 413 and body["error"]["type"] == "request_too_large"
    assert caught.value.status_code == 413
    assert gateway.usage("s").requests == 2  # refused requests count too
    assert json.loads((tmp_path / "t.jsonl").read_text().splitlines()[0])["status"] == 413


def test_an_unknown_path_is_404_and_a_body_that_is_not_json_is_400(start_gateway, tmp_path):
    gateway = start_gateway()
    token = gateway.register_step("s", tmp_path / "t.jsonl")

    missing_status, missing = raw_post(gateway, "/v1/complete", b"{}", {"x-api-key": token})
    broken_status, broken = raw_post(gateway, "/v1/messages", b"{not json", {"x-api-key": token})

    assert missing_status == 404 and missing["error"]["type"] == "not_found_error"
    assert broken_status == 400 and broken["error"]["type"] == "invalid_request_error"


def test_a_step_over_its_request_budget_is_refused_without_retry_and_recorded(start_gateway, tmp_path):
    gateway = start_gateway()
    token = gateway.register_step("triage", tmp_path / "t.jsonl", Budget(max_requests=2))
    client = sdk_client(gateway, token, max_retries=2)
    ask(client)
    ask(client)

    with pytest.raises(anthropic.PermissionDeniedError) as caught:
        ask(client)

    assert "wave-sandbox: step triage went over its budget of 2 requests" in str(caught.value)
    assert gateway.step_failure("triage") == "step triage went over its budget of 2 requests"
    assert gateway.usage("triage").requests == 3  # the refused request counts too
    statuses = [json.loads(line)["status"] for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert statuses == [200, 200, 403]


def test_token_and_run_budgets_stop_steps_with_clear_messages(start_gateway, tmp_path):
    gateway = start_gateway(run_budget=Budget(max_requests=3))
    thrifty = sdk_client(gateway, gateway.register_step("thrifty", tmp_path / "a.jsonl", Budget(max_tokens=5)))
    other = sdk_client(gateway, gateway.register_step("other", tmp_path / "b.jsonl"))

    with pytest.raises(anthropic.PermissionDeniedError):  # its input estimate and max_tokens do not fit in 5
        ask(thrifty, "forty characters of question, more or less")
    ask(other)
    ask(other)  # the third request of the run: thrifty's refused one counted
    with pytest.raises(anthropic.PermissionDeniedError):
        ask(other)

    assert gateway.step_failure("thrifty").startswith("step thrifty would go over its budget of 5 tokens: 0 used")
    assert gateway.usage("thrifty").total_tokens == 0  # nothing reached the model
    assert gateway.step_failure("other") == "step other was stopped: the run went over its budget of 3 requests"
    assert gateway.run_usage().requests == 4


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "localhost", ""])
def test_the_gateway_refuses_wildcard_addresses_and_names(host, tmp_path):
    upstream = ScriptedUpstream(Script(tmp_path / "unused.yaml", {}))

    with pytest.raises(GatewayError, match="refusing to bind|needs an IP address"):
        Gateway(upstream, host)


def test_base_url_exists_only_while_started_and_stop_closes_the_socket(start_gateway, tmp_path):
    gateway = start_gateway()
    address = urlsplit(gateway.base_url)
    assert address.hostname == "127.0.0.1" and address.port > 0

    gateway.stop()
    gateway.stop()  # idempotent

    with pytest.raises(ConnectionRefusedError):
        http.client.HTTPConnection(address.hostname, address.port, timeout=2).connect()
    with pytest.raises(GatewayError):
        gateway.base_url


def test_a_token_of_another_runs_gateway_is_refused_and_never_logged(start_gateway, tmp_path, caplog):
    ours, theirs = start_gateway(TWO_STEPS), start_gateway(TWO_STEPS)
    ours.register_step("triage", tmp_path / "ours.jsonl")
    foreign = theirs.register_step("triage", tmp_path / "theirs.jsonl")
    caplog.set_level("DEBUG", logger="wave_sandbox")

    with pytest.raises(anthropic.AuthenticationError):
        ask(sdk_client(ours, foreign))

    assert ours.usage("triage").requests == 0
    assert "without a valid step token" in caplog.text
    assert foreign not in caplog.text


def test_a_step_pinned_to_a_model_cannot_ask_for_another(tmp_path):
    import json
    import urllib.error
    import urllib.request

    from wave_sandbox.gateway.budgets import Budget
    from wave_sandbox.gateway.scripted import ScriptedUpstream
    from wave_sandbox.gateway.script_file import load_script
    from wave_sandbox.gateway.server import Gateway

    script = tmp_path / "script.yaml"
    script.write_text("steps: {}\n")
    with Gateway(ScriptedUpstream(load_script(script)), bind_host="127.0.0.1") as gateway:
        token = gateway.register_step("fix", tmp_path / "t.jsonl", Budget(), model="claude-sonnet-4-5")

        def ask(model: str) -> int:
            body = json.dumps({"model": model, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})
            request = urllib.request.Request(
                f"{gateway.base_url}/v1/messages", data=body.encode(),
                headers={"x-api-key": token, "content-type": "application/json", "anthropic-version": "2023-06-01"},
            )
            try:
                return urllib.request.urlopen(request, timeout=10).status
            except urllib.error.HTTPError as error:
                assert "may only use the model claude-sonnet-4-5" in error.read().decode()
                return error.code

        assert ask("claude-opus-4-1") == 403
        assert ask("claude-sonnet-4-5") == 200
