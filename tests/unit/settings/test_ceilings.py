"""The operator's ceilings: defaults, the stricter of the system policy and the user's `policy:`."""

import pytest

from wave_sandbox.errors import ConfigurationError, SpecError
from wave_sandbox.settings import PolicyFile, combine_policies, default_ceilings, load_ceilings


def test_defaults_when_no_policy_exists(isolated_settings):
    ceilings = load_ceilings()
    assert (ceilings.memory_mb, ceilings.pids, ceilings.step_timeout_s) == (8192, 4096, 4 * 3600)
    assert (ceilings.workspace_mb, ceilings.clone_mb) == (2048, 4096)
    assert (ceilings.transcript_step_mb, ceilings.transcript_run_mb) == (64, 256)
    assert ceilings.cpus >= 2 and ceilings.allowed_runtimes == ("runc", "runsc")
    assert ceilings.default_runtime == "runc" and ceilings.allows_model("anything-at-all")
    assert set(ceilings.sources.values()) == {"built-in default"}


def test_the_stricter_of_the_two_policies_wins_field_by_field(isolated_settings, write):
    write("policy", "memory_mb: 4096\npids: 9000\nallowed_tools: [bash, read_file, grep]\nallowed_models: ['claude-*']\n")
    write("user", "policy:\n  memory_mb: 16384\n  pids: 512\n  allowed_tools: [read_file, grep, write_file]\n"
                  "  allowed_models: ['*-haiku-*', 'scripted']\n  default_runtime: runsc\n")
    ceilings = load_ceilings()
    assert ceilings.memory_mb == 4096 and ceilings.sources["memory_mb"].startswith("policy ")
    assert ceilings.pids == 512 and ceilings.sources["pids"].startswith("policy in ")
    assert ceilings.allowed_tools == ("read_file", "grep")
    assert ceilings.allows_model("claude-3-haiku-x") and not ceilings.allows_model("claude-opus-4")
    assert not ceilings.allows_model("scripted")  # the system policy allows only claude-*
    assert ceilings.default_runtime == "runsc"


def test_an_operator_may_raise_a_default_ceiling(isolated_settings, write):
    write("policy", "memory_mb: 32768\n")
    assert load_ceilings().memory_mb == 32768


def test_a_ceiling_message_names_value_ceiling_and_source(isolated_settings, write):
    write("policy", "memory_mb: 2048\n")
    message = load_ceilings().above("memory_mb", 20480)
    assert message.startswith("20480 MB is above the operator's ceiling of 2048 MB (policy ")
    assert load_ceilings().above("memory_mb", 2048) is None


def test_policies_that_allow_no_common_runtime_are_refused():
    policies = [(PolicyFile(allowed_runtimes=["runc"]), "a"), (PolicyFile(allowed_runtimes=["runsc"]), "b")]
    with pytest.raises(ConfigurationError, match="allow no container runtime"):
        combine_policies(policies)


def test_a_policy_file_refuses_unknown_keys(isolated_settings, write):
    write("policy", "memory_mb: 1024\nmemroy_mb: 2\n")
    with pytest.raises(SpecError) as caught:
        load_ceilings()
    assert caught.value.problems[0].startswith("etc/policy.yaml:2:") and "memroy_mb" in caught.value.problems[0]


def test_default_ceilings_fit_every_built_in_persona(isolated_settings):
    from wave_sandbox.spec.personas import load_persona, persona_names

    ceilings = combine_policies([])
    assert ceilings.memory_mb == default_ceilings()["memory_mb"]
    for name in persona_names(isolated_settings):
        assert load_persona(name, isolated_settings, ceilings).name == name
