"""The step profile: Docker's default, every rule of it kept, minus the ways to reserve disk blocks."""

from __future__ import annotations

import errno
import json

from wave_sandbox.sandbox.seccomp_profile import (
    DEFAULT_PROFILE_PATH,
    PREALLOCATING_IOCTLS,
    default_profile,
    seccomp_security_opt,
    step_profile,
)

REMOVED = {"fallocate", "ioctl", "io_uring_setup", "io_uring_enter", "io_uring_register"}


def allowed_names(profile: dict) -> set[str]:
    return {name for rule in profile["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW" for name in rule["names"]}


def rules_for(profile: dict, name: str) -> list[dict]:
    return [rule for rule in profile["syscalls"] if name in rule["names"]]


def test_the_shipped_default_is_mobys_v20_10_profile():
    default = json.loads(DEFAULT_PROFILE_PATH.read_text())
    architectures = [entry["architecture"] for entry in default["archMap"]]
    assert default["defaultAction"] == "SCMP_ACT_ERRNO" and "SCMP_ARCH_X86_64" in architectures
    assert REMOVED <= allowed_names(default)  # what the step profile takes out was allowed there
    assert "moby" in (DEFAULT_PROFILE_PATH.parent / "README.md").read_text()


def test_every_rule_of_the_default_is_kept_but_the_removed_names():
    default, profile = default_profile(), step_profile()
    assert profile.keys() == default.keys()
    assert all(profile[key] == default[key] for key in default if key != "syscalls")
    kept = [dict(rule, names=[n for n in rule["names"] if n not in REMOVED]) for rule in default["syscalls"]]
    ours = [rule for rule in profile["syscalls"] if rule.get("comment") == "wave-sandbox"]
    assert [rule for rule in profile["syscalls"] if rule not in ours] == [rule for rule in kept if rule["names"]]
    assert {name for rule in ours for name in rule["names"]} == {"fallocate", "ioctl"}
    assert allowed_names(profile) >= allowed_names(default) - REMOVED
    assert not allowed_names(profile) & (REMOVED - {"ioctl"})


def test_fallocate_is_answered_with_eopnotsupp_and_nothing_allows_it():
    rules = rules_for(step_profile(), "fallocate")
    assert rules == [{"names": ["fallocate"], "action": "SCMP_ACT_ERRNO", "args": [], "comment": "wave-sandbox",
                      "errnoRet": errno.EOPNOTSUPP}]  # fmt: skip
    assert errno.EOPNOTSUPP == 95


def test_preallocating_ioctls_are_refused_under_a_32_bit_mask():
    assert {hex(c) for c in PREALLOCATING_IOCTLS} == {"0x40305828", "0x4030582a", "0x40305839",
                                                      "0x402c5828", "0x402c582a", "0x402c5839"}  # fmt: skip
    refusals = [r for r in rules_for(step_profile(), "ioctl") if r["action"] == "SCMP_ACT_ERRNO"]
    assert {(r["args"][0]["op"], r["args"][0]["value"], r["args"][0]["valueTwo"]) for r in refusals} == {
        ("SCMP_CMP_MASKED_EQ", 0xFFFFFFFF, command) for command in PREALLOCATING_IOCTLS
    }
    assert all(r["errnoRet"] == errno.EOPNOTSUPP and r["args"][0]["index"] == 1 for r in refusals)


def test_every_other_ioctl_stays_allowed_and_no_allow_is_unconditional():
    allows = [r for r in rules_for(step_profile(), "ioctl") if r["action"] == "SCMP_ACT_ALLOW"]
    assert all(r["args"] for r in allows)  # an unconditional allow would win over the refusals
    bounded = next(r for r in allows if r["args"][0]["op"] == "SCMP_CMP_LE")
    assert bounded["args"][0]["value"] == 0xFFFFFFFF
    assert {a["value"] for a in bounded["args"][1:] if a["op"] == "SCMP_CMP_NE"} == set(PREALLOCATING_IOCTLS)
    assert any(r["args"] == [{"index": 1, "value": 0xFFFFFFFF80000000, "valueTwo": 0, "op": "SCMP_CMP_GE"}]
               for r in allows)  # fmt: skip


def test_the_security_opt_carries_the_json_itself():
    option = seccomp_security_opt()
    assert option.startswith("seccomp={")
    assert json.loads(option.removeprefix("seccomp=")) == step_profile()
    step_profile()
    assert REMOVED <= allowed_names(default_profile())  # building it changed no shared copy
