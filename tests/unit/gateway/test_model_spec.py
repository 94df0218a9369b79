"""--model: parsing the spec and building the upstream it names."""

from __future__ import annotations

import pytest

from wave_sandbox.errors import ModelSpecError, ScriptError
from wave_sandbox.gateway import ModelChoice, make_upstream, parse_model_spec
from wave_sandbox.gateway.anthropic_upstream import AnthropicUpstream, https_proxy_for
from wave_sandbox.gateway.scripted import ScriptedUpstream

from .conftest import write_script

KEY = {"ANTHROPIC_API_KEY": "sk-ant-test-key"}


def test_scripted_resolves_its_file_against_the_cwd(tmp_path):
    script = write_script(tmp_path, "steps: {}\n", "demo.yaml")

    choice = parse_model_spec("scripted:demo.yaml", tmp_path, {})

    assert choice == ModelChoice(kind="scripted", script_path=script.resolve())
    assert choice.describe() == f"scripted:{script.resolve()}"


def test_anthropic_takes_the_model_id_and_needs_the_key(tmp_path):
    assert parse_model_spec("anthropic:claude-sonnet-4-5", tmp_path, KEY) == ModelChoice("anthropic", "claude-sonnet-4-5")
    assert parse_model_spec("anthropic", tmp_path, KEY) == ModelChoice("anthropic")
    with pytest.raises(ModelSpecError, match="ANTHROPIC_API_KEY"):
        parse_model_spec("anthropic:claude-sonnet-4-5", tmp_path, {})


def test_without_a_spec_the_key_decides_and_the_error_names_both_options(tmp_path):
    assert parse_model_spec(None, tmp_path, KEY) == ModelChoice("anthropic")
    with pytest.raises(ModelSpecError) as caught:
        parse_model_spec(None, tmp_path, {"ANTHROPIC_API_KEY": ""})

    assert "anthropic:MODEL_ID" in str(caught.value) and "scripted:FILE" in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("openai:gpt-4", "is not understood"),
        ("scripted", "is not understood"),
        ("scripted:", "needs a file"),
        ("scripted:missing.yaml", "scripted model file not found"),
        ("anthropic:bad model id", "is not a model id"),
    ],
)
def test_a_bad_spec_says_what_to_pass(tmp_path, spec, expected):
    with pytest.raises(ModelSpecError, match=expected):
        parse_model_spec(spec, tmp_path, KEY)


def test_make_upstream_loads_the_script_and_refuses_a_bad_one(tmp_path):
    write_script(tmp_path, "steps: {}\n", "good.yaml")
    good = parse_model_spec("scripted:good.yaml", tmp_path, {})
    write_script(tmp_path, "steps: {t: [[{type: text, txt: x}]]}\n", "bad.yaml")
    bad = parse_model_spec("scripted:bad.yaml", tmp_path, {})

    assert isinstance(make_upstream(good, {}), ScriptedUpstream)
    with pytest.raises(ScriptError, match="unknown key 'txt'"):
        make_upstream(bad, {})


def test_make_upstream_for_anthropic_holds_the_key_as_a_secret_and_picks_the_base_url():
    choice = ModelChoice("anthropic", "claude-sonnet-4-5")

    explicit = make_upstream(choice, KEY, anthropic_base_url="http://127.0.0.1:9")
    from_host = make_upstream(choice, {**KEY, "ANTHROPIC_BASE_URL": "https://proxy.example/anthropic"})
    default = make_upstream(choice, KEY)

    assert isinstance(explicit, AnthropicUpstream) and explicit.base_url == "http://127.0.0.1:9"
    assert from_host.base_url == "https://proxy.example/anthropic"
    assert default.base_url == "https://api.anthropic.com"
    assert default.secrets == ("sk-ant-test-key",)
    with pytest.raises(ModelSpecError, match="ANTHROPIC_API_KEY"):
        make_upstream(choice, {})
    with pytest.raises(ModelSpecError, match="not an http"):
        make_upstream(choice, KEY, anthropic_base_url="ftp://example")


def test_the_hosts_https_proxy_is_used_unless_no_proxy_exempts_the_api():
    proxied = {"HTTPS_PROXY": "http://proxy:3128"}

    assert https_proxy_for("https://api.anthropic.com", proxied) == "http://proxy:3128"
    assert https_proxy_for("https://api.anthropic.com", {**proxied, "NO_PROXY": "localhost,.anthropic.com"}) is None
    assert https_proxy_for("https://api.anthropic.com", {**proxied, "no_proxy": "*"}) is None
    assert https_proxy_for("http://127.0.0.1:8080", proxied) is None
