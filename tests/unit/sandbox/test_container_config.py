"""The hardened container settings built from a ContainerSpec (no Docker needed to build them)."""

from __future__ import annotations

import pytest

from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox.container_config import (
    MaskPlan,
    container_environment,
    create_container_arguments,
    host_config_arguments,
    plan_masks,
)
from wave_sandbox.sandbox.contract import BindMount, ContainerSpec
from wave_sandbox.sandbox.seccomp_profile import seccomp_security_opt
from wave_sandbox.sandbox.volumes import workspace_volume_options


def spec(**overrides) -> ContainerSpec:
    values = dict(
        run_id="r1",
        step_id="triage",
        image="img:1",
        network="net-1",
        user="1000:1001",
        environment={"A": "1"},
    )
    values.update(overrides)
    return ContainerSpec(**values)


def test_every_container_gets_the_hardened_defaults():
    host = host_config_arguments(spec(memory_mb=512, cpus=1.5, pids=64), "vol", MaskPlan([], []), None)
    assert (
        host["read_only"] is True
        and host["cap_drop"] == ["ALL"]
        and host["security_opt"] == ["no-new-privileges", seccomp_security_opt()]
    )
    assert host["mem_limit"] == host["memswap_limit"] == "512m"
    assert (host["nano_cpus"], host["pids_limit"], host["network_mode"]) == (1_500_000_000, 64, "net-1")
    assert (
        host["tmpfs"]["/tmp"].startswith("rw,nosuid,nodev,size=64m")
        and "uid=1000,gid=1001" in host["tmpfs"]["/home/wave"]
    )


def test_no_network_means_network_none_with_its_loopback():
    """Docker's "none" (loopback only), not NetworkDisabled, which under gVisor leaves no working loopback."""
    arguments = create_container_arguments(spec(network=None), "name", {})
    assert "network_disabled" not in arguments
    assert host_config_arguments(spec(network=None), "vol", MaskPlan([], []), None)["network_mode"] == "none"


def test_the_container_lives_for_its_lifetime_apart_from_the_user_without_host_proxies():
    arguments = create_container_arguments(spec(lifetime_s=90), "name", {})
    assert arguments["command"] == ["bash", "-c", 'read -r -t "$0" _', "90"]
    assert arguments["user"] == "65534:65534"  # PID 1's own user; each exec names the step's (1000:1001)
    assert arguments["stdin_open"] is True  # the run's process holds it: its end stops the container
    assert arguments["use_config_proxy"] is False and arguments["working_dir"] == "/workspace"
    assert (
        arguments["labels"]["wave-sandbox.run"] == "r1"
        and arguments["labels"]["wave-sandbox.step"] == "triage"
    )


def test_the_environment_is_the_specs_plus_home():
    assert container_environment(spec()) == {"HOME": "/home/wave", "A": "1"}
    assert container_environment(spec(environment={"HOME": "/x"})) == {"HOME": "/x"}


def test_the_workspace_volume_is_a_capped_private_tmpfs_of_the_user():
    assert workspace_volume_options(spec(workspace_mb=99))["o"].startswith(
        "size=99m,uid=1000,gid=1001,mode=0700"
    )


def test_mounts_keep_their_read_only_flag(tmp_path):
    mounts = [BindMount(tmp_path, "/src"), BindMount(tmp_path, "/wave/step.json", read_only=False)]
    built = host_config_arguments(spec(mounts=mounts), "vol", MaskPlan([], []), None)["mounts"]
    assert [(m["Target"], m["Type"], m.get("ReadOnly", False)) for m in built] == [
        ("/workspace", "volume", False), ("/src", "bind", True), ("/wave/step.json", "bind", False),
    ]  # fmt: skip


def test_masks_are_planned_by_what_is_on_the_host(tmp_path):
    (tmp_path / ".wave" / "runs").mkdir(parents=True)
    (tmp_path / ".env").write_text("SECRET=1")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "real.pem").write_text("key")
    (tmp_path / "link.pem").symlink_to("config/real.pem")
    (tmp_path / "outside.pem").symlink_to("/etc/hostname")
    masked = ["/src/.wave/runs", "/src/.env", "/src/absent.key", "/src/link.pem", "/src/outside.pem"]
    plan = plan_masks(spec(mounts=[BindMount(tmp_path, "/src")], masked_paths=masked))
    assert plan == MaskPlan(folders=["/src/.wave/runs"], files=["/src/.env", "/src/config/real.pem"])


def test_masks_use_the_innermost_mount(tmp_path):
    (tmp_path / "clone" / ".git" / "hooks").mkdir(parents=True)
    mounts = [
        BindMount(tmp_path / "clone", "/src", read_only=False),
        BindMount(tmp_path / "clone" / ".git", "/src/.git"),
    ]
    assert plan_masks(spec(mounts=mounts, masked_paths=["/src/.git/hooks"])).folders == ["/src/.git/hooks"]


@pytest.mark.parametrize("masked", ["/etc/shadow", "/src", "src/x", "/src/../etc"])
def test_a_mask_outside_every_mount_is_refused(tmp_path, masked):
    with pytest.raises(SandboxError, match="masked path"):
        plan_masks(spec(mounts=[BindMount(tmp_path, "/src")], masked_paths=[masked]))


def test_masked_files_are_mounted_from_the_empty_file(tmp_path):
    built = host_config_arguments(spec(), "vol", MaskPlan(["/src/runs"], ["/src/.env"]), tmp_path / "empty")
    assert built["mounts"][-1]["Target"] == "/src/.env" and built["mounts"][-1]["ReadOnly"] is True
    assert built["tmpfs"]["/src/runs"].startswith("ro,")


def test_replaced_files_are_planned_where_the_container_sees_them(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    (tmp_path / "shared.config").write_text("[core]\n")
    (tmp_path / "linked.config").symlink_to("shared.config")
    (tmp_path / "outside.config").symlink_to("/etc/hostname")
    replaced = {"/src/.git/config": b"a", "/src/linked.config": b"b", "/src/outside.config": b"c", "/src/absent": b"d"}
    plan = plan_masks(spec(mounts=[BindMount(tmp_path, "/src")], replaced_files=replaced))
    assert plan.replaced == {"/src/.git/config": b"a", "/src/shared.config": b"b"}


def test_replaced_files_are_mounted_read_only_from_their_host_copies(tmp_path):
    plan = MaskPlan([], [], {"/src/.git/config": b"redacted"})
    built = host_config_arguments(spec(), "vol", plan, None, {"/src/.git/config": tmp_path / "copy"})
    assert built["mounts"][-1]["Target"] == "/src/.git/config" and built["mounts"][-1]["ReadOnly"] is True
    assert built["mounts"][-1]["Source"] == str(tmp_path / "copy")
    with pytest.raises(SandboxError, match="replaced files"):
        host_config_arguments(spec(), "vol", plan, None)


def test_pid_1_never_runs_as_the_steps_user():
    from wave_sandbox.sandbox.lifeline import lifetime_user

    assert lifetime_user("1000:1001") == "65534:65534"
    assert lifetime_user("65534:65534") == "65533:65533"
    assert lifetime_user("65534") == "65533:65533"
