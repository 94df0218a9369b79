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
        ("gemini:pro", "is not understood"),
        ("openai:gpt-4", "OPENAI_API_KEY"),
        ("openai:", "needs a model id"),
        ("openai:bad model", "is not a model id"),
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


def test_openai_needs_a_model_id_and_its_key_unless_another_server_is_named(tmp_path):
    openai_key = {"OPENAI_API_KEY": "sk-openai-test"}

    assert parse_model_spec("openai:gpt-4o-mini", tmp_path, openai_key) == ModelChoice("openai", "gpt-4o-mini")
    local = parse_model_spec("openai:qwen2.5:0.5b", tmp_path, {}, upstream_url="http://127.0.0.1:11434")
    assert local == ModelChoice("openai", "qwen2.5:0.5b") and local.describe() == "openai:qwen2.5:0.5b"
    assert parse_model_spec("anthropic:local", tmp_path, {}, upstream_url="http://127.0.0.1:8080").kind == "anthropic"


def test_make_upstream_for_openai_picks_url_key_and_local_mark():
    from wave_sandbox.gateway.openai_upstream import OpenAIUpstream

    choice = ModelChoice("openai", "gpt-4o-mini")
    official = make_upstream(choice, {"OPENAI_API_KEY": "sk-openai-test"})
    local = make_upstream(choice, {}, "http://127.0.0.1:8080", upstream_local=True)
    keyless_anthropic = make_upstream(ModelChoice("anthropic", "x"), {}, "http://127.0.0.1:8080")

    assert isinstance(official, OpenAIUpstream) and official.base_url == "https://api.openai.com/v1"
    assert official.secrets == ("sk-openai-test",) and not official.local
    assert local.base_url == "http://127.0.0.1:8080/v1" and local.local and local.secrets == ()
    assert keyless_anthropic.secrets == ()  # nothing to scrub: an empty secret would redact everything
    with pytest.raises(ModelSpecError, match="OPENAI_API_KEY"):
        make_upstream(choice, {})
    with pytest.raises(ModelSpecError, match="not an http"):
        make_upstream(choice, {}, "ftp://127.0.0.1/v1")
