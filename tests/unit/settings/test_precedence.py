"""Where each effective value comes from: flags, WAVE_SANDBOX_* variables, the user's config, the
repository's .wave/config.yaml, built-ins; and what a repository may not set at all."""

import os
from pathlib import Path

import pytest

from wave_sandbox.errors import CeilingError, ConfigurationError, SpecError
from wave_sandbox.settings import SettingFlags, resolve_settings


def repo(root: Path) -> Path:
    return root / "repo"


def test_built_ins_when_nothing_is_set(isolated_settings, write):
    settings = resolve_settings(repo(isolated_settings))
    assert (settings.step_timeout_s.value, settings.step_timeout_s.source) == (900, "built-in")
    assert settings.max_parallel.value == (os.cpu_count() or 2)
    assert settings.model.value is None and settings.runtime.value == "runc"


def test_each_source_beats_the_ones_below_it(isolated_settings, write):
    write("repo", "step_timeout_s: 600\nmax_parallel: 1\nmodel: claude-repo\n")
    write("user", "step_timeout_s: 700\nmodel: anthropic:claude-user\n")
    environ = {"WAVE_SANDBOX_STEP_TIMEOUT": "800"}
    settings = resolve_settings(repo(isolated_settings), SettingFlags(), environ)
    assert (settings.step_timeout_s.value, settings.step_timeout_s.source) == (800, "environment WAVE_SANDBOX_STEP_TIMEOUT")
    assert settings.model.value == "anthropic:claude-user" and settings.model.source.endswith("config.yaml")
    assert (settings.max_parallel.value, settings.max_parallel.source) == (1, "repo/.wave/config.yaml")
    flagged = resolve_settings(repo(isolated_settings), SettingFlags(step_timeout_s=100), environ)
    assert (flagged.step_timeout_s.value, flagged.step_timeout_s.source) == (100, "flag --step-timeout")


def test_a_repository_model_is_an_id_for_the_operators_upstream(isolated_settings, write):
    write("repo", "model: claude-sonnet-4-5\n")
    assert resolve_settings(repo(isolated_settings)).model.value == "anthropic:claude-sonnet-4-5"
    write("repo", "model: scripted:/etc/passwd\n")
    with pytest.raises(SpecError) as caught:
        resolve_settings(repo(isolated_settings))
    assert caught.value.problems[0].startswith("repo/.wave/config.yaml:1: model:")


@pytest.mark.parametrize("key, value", [
    ("upstream_url", "https://attacker.example"), ("api_key", "sk-x"), ("runtime", "runc"),
    ("masks", "[]"), ("mounts", "[]"), ("policy", "{memory_mb: 99999}"), ("upstream_local", "true"),
    ("prices", "{claude-sonnet-4-5: {input: 0, output: 0}}"), ("step_tokens", "99999999"), ("run_tokens", "1"),
    ("max_cost", "1000"),
])
def test_a_repository_cannot_set_what_belongs_to_the_operator(isolated_settings, write, key, value):
    write("repo", f"max_parallel: 1\n{key}: {value}\n")
    with pytest.raises(SpecError) as caught:
        resolve_settings(repo(isolated_settings))
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(f"repo/.wave/config.yaml:2: {key}: only the operator sets this")


def test_malformed_files_are_one_line_each_with_file_and_line(isolated_settings, write):
    write("user", "model: anthropic:x\nmax_paralel: 3\n")
    with pytest.raises(SpecError) as caught:
        resolve_settings(repo(isolated_settings))
    assert caught.value.problems[0].startswith("config-home/wave-sandbox/config.yaml:2: ")
    assert "max_paralel" in caught.value.problems[0]
    write("user", "")
    write("policy", "memory_mb: [1\n")
    with pytest.raises(SpecError) as caught:
        resolve_settings(repo(isolated_settings))
    assert caught.value.problems[0].startswith("etc/policy.yaml:")


def test_environment_values_must_be_numbers_where_numbers_are_expected(isolated_settings, write):
    with pytest.raises(ConfigurationError, match="WAVE_SANDBOX_MAX_PARALLEL='many' should be a whole number"):
        resolve_settings(repo(isolated_settings), SettingFlags(), {"WAVE_SANDBOX_MAX_PARALLEL": "many"})


def test_a_flag_above_a_ceiling_is_refused_naming_value_ceiling_and_sources(isolated_settings, write):
    write("policy", "step_timeout_s: 3600\n")
    with pytest.raises(CeilingError) as caught:
        resolve_settings(repo(isolated_settings), SettingFlags(step_timeout_s=7200))
    message = str(caught.value)
    assert message.startswith("flag --step-timeout: 7200 s is above the operator's ceiling of 3600 s")
    assert "etc/policy.yaml" in message


def test_a_runtime_outside_the_policy_is_refused(isolated_settings, write):
    write("policy", "allowed_runtimes: [runsc]\n")
    assert resolve_settings(repo(isolated_settings)).runtime.value == "runsc"
    with pytest.raises(CeilingError, match="runtime 'runc' is not allowed"):
        resolve_settings(repo(isolated_settings), SettingFlags(runtime="runc"))


def test_a_repository_value_above_a_ceiling_is_a_problem_at_its_line(isolated_settings, write):
    write("repo", "max_parallel: 2\nstep_timeout_s: 5961600\n")
    with pytest.raises(SpecError) as caught:
        resolve_settings(repo(isolated_settings))
    assert caught.value.problems == [
        "repo/.wave/config.yaml:2: step_timeout_s: 5961600 s is above the operator's ceiling of 14400 s "
        f"(built-in default; an operator raises it in {isolated_settings / 'etc' / 'policy.yaml'})"
    ]


def test_rows_show_every_value_and_ceiling_with_its_source(isolated_settings, write):
    write("policy", "memory_mb: 4096\n")
    rows = {name: (value, source) for name, value, source in resolve_settings(repo(isolated_settings)).rows()}
    assert rows["policy.memory_mb"][0] == "4096" and rows["policy.memory_mb"][1].endswith("etc/policy.yaml")
    assert rows["policy.pids"] == ("4096", "built-in default")
    assert rows["step_timeout_s"] == ("900", "built-in")


def test_the_users_prices_go_over_the_published_table(write):
    from wave_sandbox.gateway.prices import ModelPrice, PriceTable
    from wave_sandbox.gateway.user_prices import user_price_table

    assert user_price_table().price("claude-sonnet-4-5") == PriceTable().price("claude-sonnet-4-5")
    write("user", "prices:\n  local-llama: {input: 0.1, output: 0.2, cache_read: 0}\n")
    assert user_price_table().price("local-llama") == ModelPrice(0.1, 0.2, 0.125, 0)
    write("user", "prices:\n  local-llama: {input: -1, output: 0.2}\n")
    with pytest.raises(SpecError) as caught:
        user_price_table()
    assert "prices.local-llama.input" in caught.value.problems[0]


def test_the_upstream_and_its_local_mark_come_from_flags_environment_or_the_user_only(isolated_settings, write):
    write("user", "model: openai:qwen2.5-coder\nupstream_url: http://127.0.0.1:11434\nupstream_local: true\n")
    from_user = resolve_settings(repo(isolated_settings))
    assert (from_user.upstream_url.value, from_user.upstream_local.value) == ("http://127.0.0.1:11434", True)
    assert from_user.upstream_local.source.endswith("config.yaml")
    environ = {"WAVE_SANDBOX_UPSTREAM_URL": "http://127.0.0.1:8000/v1", "WAVE_SANDBOX_UPSTREAM_LOCAL": "0"}
    from_environment = resolve_settings(repo(isolated_settings), SettingFlags(), environ)
    assert (from_environment.upstream_url.value, from_environment.upstream_local.value) == ("http://127.0.0.1:8000/v1", False)
    flagged = resolve_settings(repo(isolated_settings), SettingFlags(upstream_url="http://10.0.0.5:8080", upstream_local=True), environ)
    assert (flagged.upstream_url.source, flagged.upstream_local.source) == ("flag --upstream-url", "flag --upstream-local")
    write("user", "")
    built_in = resolve_settings(repo(isolated_settings)).upstream_local
    assert (built_in.value, built_in.source) == (False, "built-in")
    with pytest.raises(ConfigurationError, match="WAVE_SANDBOX_UPSTREAM_LOCAL='maybe' should be 1 or 0"):
        resolve_settings(repo(isolated_settings), SettingFlags(), {"WAVE_SANDBOX_UPSTREAM_LOCAL": "maybe"})


def test_durations_take_units_in_every_source(isolated_settings, write):
    write("repo", "step_timeout_s: 10m\n")
    assert resolve_settings(repo(isolated_settings)).step_timeout_s.value == 600
    write("user", "step_timeout_s: 1h\n")
    assert resolve_settings(repo(isolated_settings)).step_timeout_s.value == 3600
    environ = {"WAVE_SANDBOX_STEP_TIMEOUT": "90s"}
    assert resolve_settings(repo(isolated_settings), SettingFlags(), environ).step_timeout_s.value == 90
    with pytest.raises(ConfigurationError, match="WAVE_SANDBOX_STEP_TIMEOUT: 'soon' is not a duration"):
        resolve_settings(repo(isolated_settings), SettingFlags(), {"WAVE_SANDBOX_STEP_TIMEOUT": "soon"})
    write("user", "step_timeout_s: soon\n")
    with pytest.raises(SpecError) as caught:
        resolve_settings(repo(isolated_settings))
    assert "step_timeout_s" in caught.value.problems[0] and "is not a duration" in caught.value.problems[0]


def test_budgets_come_from_flags_environment_or_the_user(isolated_settings, write):
    built_in = resolve_settings(repo(isolated_settings))
    assert (built_in.step_tokens.value, built_in.run_tokens.value, built_in.max_cost_usd.value) == (
        4_000_000, 20_000_000, None)
    write("user", "step_tokens: 500000\nrun_tokens: 2000000\nmax_cost: 2.5\n")
    from_user = resolve_settings(repo(isolated_settings))
    assert (from_user.step_tokens.value, from_user.run_tokens.value, from_user.max_cost_usd.value) == (
        500_000, 2_000_000, 2.5)
    assert from_user.max_cost_usd.source.endswith("config.yaml")
    environ = {"WAVE_SANDBOX_MAX_COST": "$1.25", "WAVE_SANDBOX_STEP_TOKENS": "1000"}
    from_environment = resolve_settings(repo(isolated_settings), SettingFlags(), environ)
    assert (from_environment.max_cost_usd.value, from_environment.step_tokens.value) == (1.25, 1000)
    flagged = resolve_settings(repo(isolated_settings), SettingFlags(max_cost_usd=0.5), environ)
    assert (flagged.max_cost_usd.value, flagged.max_cost_usd.source) == (0.5, "flag --max-cost")
    with pytest.raises(ConfigurationError, match="WAVE_SANDBOX_MAX_COST='lots' should be an amount in USD"):
        resolve_settings(repo(isolated_settings), SettingFlags(), {"WAVE_SANDBOX_MAX_COST": "lots"})
