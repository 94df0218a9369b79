"""A step cannot reserve the host's disk through its read-write clone: the step's seccomp profile.

A real `wave-sandbox run` whose read-write step tries every way to reserve blocks without writing
them into its clone (`/src`, a host folder): `fallocate -l 4G`, the fallocate syscall, the
preallocating ioctls (also with garbage above their 32 bits), io_uring, and glibc's
`posix_fallocate`; then the calls Docker's default profile refuses (add_key, `unshare -U`, mount).
A sampler on the host measures the clone every 10 ms while the run goes on. The same probe in a
plain container (Docker's own default profile) reserves every block: the control that the attack
works where the step profile is not applied.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import assert_run_left_nothing
from tests.security.attack_kit import LiveRun, PROBES, bash, make_repository, probe, say
from tests.security.attack_kit import write_pipeline
from tests.security.test_clone_disk_cap import MIB, PERSONAS, READ_WRITE, CloneSampler, step

pytestmark = pytest.mark.docker

GIB = 1024 * MIB
FALLBACK_BYTES = 8 * MIB
RESERVING_CALLS = ["fallocate", "FS_IOC_RESVSP", "FS_IOC_RESVSP64", "FS_IOC_ZERO_RANGE"]
FALLOCATE_COMMAND = "{ fallocate -l 4G /src/big; echo rc=$?; ls -ls /src/big; } > output/fallocate.txt 2>&1"
CLEAN_UP = "sleep 1; rm -f /src/*.bin /src/big"


def reserve_pipeline() -> tuple[dict, dict]:
    pipeline = {"kind": "WavePipeline", "metadata": {"name": "reserve"}, "steps": [
        step("reserve", READ_WRITE, {"fallocate": "output/fallocate.txt", "reserve": "output/reserve.json"}),
    ]}  # fmt: skip
    script = {"steps": {"reserve": [
        [bash(FALLOCATE_COMMAND)],
        [bash(probe("reserve_disk", f"/src {4 * GIB} {FALLBACK_BYTES}", "output/reserve.json", f"; {CLEAN_UP}"))],
        say("Reserved"),
    ]}}  # fmt: skip
    return pipeline, script


@pytest.fixture(scope="module")
def reserve_run(tmp_path_factory, docker, agent_image):
    base = tmp_path_factory.mktemp("reserve")
    repo = make_repository(base / "service", personas=PERSONAS)
    pipeline_file, script_file = write_pipeline(base, *reserve_pipeline())
    sampler = CloneSampler(repo, GIB)
    run = LiveRun([str(pipeline_file), "--repo", str(repo), "--model", f"scripted:{script_file}",
                   "--output", str(base / "out")], cwd=base)  # fmt: skip
    try:
        exit_code = run.finish(timeout_s=240)
    finally:
        sampler.stop()
    return {"run": run, "exit_code": exit_code, "sampler": sampler, "out": base / "out"}


@pytest.fixture(scope="module")
def unprofiled(tmp_path_factory, docker, agent_image):
    """The probe in a plain container under Docker's default profile, on a host folder (256 MiB asked)."""
    folder = tmp_path_factory.mktemp("unprofiled")
    folder.chmod(0o777)
    source = (PROBES / "reserve_disk.py").read_text()
    command = ["sh", "-c", f"python3 - /target {256 * MIB} {FALLBACK_BYTES} <<'PROBE_SOURCE'\n{source}PROBE_SOURCE"]
    output = docker.containers.run(agent_image, command, entrypoint=[], user="10001:10001", cap_drop=["ALL"],
                                   security_opt=["no-new-privileges"], network_mode="none", remove=True,
                                   volumes={str(folder): {"bind": "/target", "mode": "rw"}})  # fmt: skip
    return json.loads(output)


def reserve_report(reserve_run) -> dict:
    return json.loads((reserve_run["out"] / "reserve.json").read_text())


def test_the_reserving_step_completes_and_leaves_nothing(reserve_run, docker):
    run = reserve_run["run"]
    assert reserve_run["exit_code"] == 0, run.stderr
    assert run.step_event("reserve")["state"] == "completed"
    assert "Traceback" not in run.stderr
    assert_run_left_nothing(docker, run.run_id)


def test_fallocate_of_4_gib_in_the_clone_is_not_supported(reserve_run):
    report = (reserve_run["out"] / "fallocate.txt").read_text()
    assert "Operation not supported" in report and "rc=1" in report, report
    assert "0 -rw" in report  # the file was made in the clone, and holds no block


def test_every_way_to_reserve_blocks_is_refused_with_eopnotsupp(reserve_run):
    report = reserve_report(reserve_run)
    assert report["seccomp"] == "2"  # the step ran under a filter
    for call in RESERVING_CALLS:
        assert report["calls"][call] == "ENOTSUP", (call, report)  # ENOTSUP == EOPNOTSUPP (95) on Linux
        assert report["blocks"][call] == 0, (call, report)
    for call in RESERVING_CALLS[1:]:
        assert report["calls"][f"{call} (high bits set)"] == "ENOTSUP", (call, report)
    assert report["calls"]["io_uring_setup"] == "EPERM"


def test_posix_fallocate_falls_back_to_writing_its_blocks(reserve_run):
    report = reserve_report(reserve_run)
    assert report["calls"]["posix_fallocate"] == "done"
    assert report["blocks"]["posix_fallocate"] >= FALLBACK_BYTES  # written, so the clone watchdog sees it


def test_the_host_clone_never_held_the_4_gib(reserve_run):
    sampler = reserve_run["sampler"]
    assert sampler.samples > 20
    assert sampler.largest["allocated"] >= FALLBACK_BYTES  # control: the sampler saw the fallback's writes
    assert sampler.largest["allocated"] < 64 * MIB, sampler.largest
    assert sampler.first_over_at is None


def test_docker_default_denials_still_hold(reserve_run, unprofiled):
    denials = reserve_report(reserve_run)["denials"]
    assert denials == unprofiled["denials"], (denials, unprofiled["denials"])
    assert denials["add_key"] == "EPERM" and denials["mount"] == "EPERM"
    assert "Operation not permitted" in denials["unshare -U"]


def test_control_without_the_step_profile_every_block_is_reserved(unprofiled):
    assert unprofiled["seccomp"] == "2"  # Docker's own default profile
    for call in RESERVING_CALLS:
        assert unprofiled["calls"][call] == "done" and unprofiled["blocks"][call] >= 256 * MIB, unprofiled
    assert unprofiled["calls"]["io_uring_setup"] == "done"
