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
