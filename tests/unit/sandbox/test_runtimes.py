"""Choosing a step's container runtime, and what gVisor changes in its host config (no Docker needed)."""

from __future__ import annotations

import pytest

from wave_sandbox.errors import ConfigurationError
from wave_sandbox.sandbox.container_config import MaskPlan, host_config_arguments
from wave_sandbox.sandbox.contract import ContainerSpec
from wave_sandbox.sandbox.runtimes import chosen_runtime, gvisor_host_pids, runtime_host_config


def spec(**overrides) -> ContainerSpec:
    return ContainerSpec("r1", "triage", "img:1", "net-1", "1000:1000", {}, **overrides)


def test_a_listed_runtime_is_chosen():
    assert chosen_runtime("runsc", ["runc", "runsc"]) == "runsc"
    assert chosen_runtime("runc", ["runc"]) == "runc"


def test_runsc_missing_from_the_engine_is_refused_with_how_to_install_it():
    with pytest.raises(ConfigurationError) as refused:
        chosen_runtime("runsc", ["runc"])
    line = str(refused.value)
    assert "\n" not in line and refused.value.exit_code == 2
    assert "no 'runsc' runtime" in line and "it lists runc" in line
    assert "apt-get install runsc" in line and "/etc/docker/daemon.json" in line and "--network=host" in line


def test_an_unknown_runtime_is_refused_naming_the_choices():
    with pytest.raises(ConfigurationError, match="choose one of runc, runsc"):
        chosen_runtime("kata", ["runc", "kata"])


def test_the_engine_default_sets_no_runtime_and_keeps_the_pids_limit():
    host = host_config_arguments(spec(pids=64), "vol", MaskPlan([], []), None)
    assert "runtime" not in host and "ulimits" not in host and host["pids_limit"] == 64
    assert runtime_host_config("runc", 64) == {"runtime": "runc", "pids_limit": 64}


def test_under_gvisor_the_guest_gets_the_pids_limit_and_the_sandbox_threads_a_ceiling():
    host = host_config_arguments(spec(pids=64, runtime="runsc"), "vol", MaskPlan([], []), None)
    assert host["runtime"] == "runsc"
    (nproc,) = host["ulimits"]
    assert (nproc["Name"], nproc["Soft"], nproc["Hard"]) == ("nproc", 64, 64)
    assert host["pids_limit"] == gvisor_host_pids(64)
    assert 64 * 6 + 50 < gvisor_host_pids(64) < 2000  # room for the sandbox's own threads, still bounded
    assert host["read_only"] is True and host["cap_drop"] == ["ALL"]  # every other control unchanged


class _Engine:
    """What `gvisor_seccomp_gap` reads of a client: `docker info`'s Runtimes."""

    def __init__(self, runtime_args: list[str]):
        self.runtimes = {"runc": {"path": "runc"}, "runsc": {"path": "/usr/bin/runsc", "runtimeArgs": runtime_args}}

    def info(self) -> dict:
        return {"Runtimes": self.runtimes}


def test_runsc_without_oci_seccomp_is_said_to_ignore_the_step_profile():
    from wave_sandbox.sandbox.runtimes import gvisor_seccomp_gap

    assert "ignores the step's seccomp profile" in gvisor_seccomp_gap(_Engine(["--network=host"]))
    assert gvisor_seccomp_gap(_Engine(["--network=host", "--oci-seccomp"])) is None
    assert gvisor_seccomp_gap(_Engine(["-oci-seccomp=true"])) is None
    assert gvisor_seccomp_gap(_Engine(["--oci-seccomp=false"])) is not None


# ----- gVisor and the gateway's socket: runsc must be registered with --host-uds=open (or all) -----------
from wave_sandbox.sandbox.runtimes import gvisor_connects_host_sockets  # noqa: E402

CONNECTING = [
    ["--network=host", "--host-uds=open"],
    ["-host-uds=all"],
    ["--host-uds", "open"],
    ["--network=host", "--host-uds", "all", "--oci-seccomp"],
    ["--fsgofer-host-uds"],
    ["--fsgofer-host-uds=true"],
]
NOT_CONNECTING = [
    [],
    ["--network=host"],
    ["--host-uds=none"],
    ["--host-uds=create"],
    ["--host-uds"],  # its value missing at the end
    ["--host-uds", "none"],
    ["--fsgofer-host-uds=false"],
    ["--network=host", "open"],  # a stray value, no flag
]


@pytest.mark.parametrize("runtime_args", CONNECTING)
def test_runsc_registered_to_connect_to_host_sockets_is_chosen(runtime_args):
    assert gvisor_connects_host_sockets(runtime_args)
    assert chosen_runtime("runsc", ["runc", "runsc"], {"runsc": runtime_args}) == "runsc"


@pytest.mark.parametrize("runtime_args", NOT_CONNECTING)
def test_runsc_without_host_uds_is_refused_in_one_line_saying_what_to_add(runtime_args):
    assert not gvisor_connects_host_sockets(runtime_args)
    with pytest.raises(ConfigurationError) as refused:
        chosen_runtime("runsc", ["runc", "runsc"], {"runsc": runtime_args})
    line = str(refused.value)
    assert "\n" not in line and refused.value.exit_code == 2 and line.startswith("--runtime runsc: ")
    assert "--host-uds=open" in line and "/etc/docker/daemon.json" in line and "gateway's socket" in line


def test_runsc_with_no_arguments_registered_at_all_is_refused():
    with pytest.raises(ConfigurationError, match="registered without --host-uds=open"):
        chosen_runtime("runsc", ["runc", "runsc"], {"runc": []})


def test_runc_does_not_depend_on_runscs_arguments():
    assert chosen_runtime("runc", ["runc", "runsc"], {"runsc": ["--host-uds=none"]}) == "runc"


def test_the_install_hint_registers_runsc_with_host_uds():
    with pytest.raises(ConfigurationError) as refused:
        chosen_runtime("runsc", ["runc"], {})
    assert '"--host-uds=open"' in str(refused.value)
