"""The seccomp profile of every step container: Docker's default, minus the ways to reserve disk blocks.

A read-write step's clone is a host folder, watched by the host (``engine/clone_watchdog.py``),
which stops a step within moments of its ceiling. ``fallocate`` reserves gigabytes of blocks in
milliseconds, without writing them, so a step could take the host's free disk before it is stopped.
This profile answers each way to reserve blocks with EOPNOTSUPP (what a filesystem without
preallocation answers), so that libc's ``posix_fallocate`` falls back to writing zeros, ordinary
writes the watchdog sees:

- ``fallocate`` (every mode);
- the ``ioctl`` commands that preallocate through ``vfs_fallocate`` on any filesystem:
  ``FS_IOC_RESVSP``, ``FS_IOC_RESVSP64``, ``FS_IOC_ZERO_RANGE`` and their 32-bit forms; the kernel
  reads the command as 32 bits, so it is compared under a 32-bit mask. Every other command stays
  allowed: a command whose upper 32 bits are neither zero nor a sign extension is refused (EPERM);
- the ``io_uring_*`` calls (``IORING_OP_FALLOCATE`` would bypass the rule; moby's own default
  drops them since 2023, commit 891241e7e7).

Docker takes one profile per container (``security_opt=["seccomp=<the JSON itself>"]``), so the
whole profile is sent: ``seccomp/default.json`` (moby v20.10.24, see its README) with these changes.
An unconditional allow of a syscall would win over a conditional refusal, so ``fallocate``,
``ioctl`` and ``io_uring_*`` leave the default's allow list first.
"""

from __future__ import annotations

import copy
import errno
import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_PROFILE_PATH", "PREALLOCATING_IOCTLS", "default_profile", "seccomp_security_opt", "step_profile"]

DEFAULT_PROFILE_PATH = Path(__file__).with_name("seccomp") / "default.json"
_SPACE_RESV_SIZES = (0x30, 0x2C)  # struct space_resv: 48 bytes on 64-bit ABIs, 44 (packed) on i386
_PREALLOCATING_NUMBERS = (40, 42, 57)  # FS_IOC_RESVSP, FS_IOC_RESVSP64, FS_IOC_ZERO_RANGE: _IOW('X', nr, ...)
PREALLOCATING_IOCTLS = tuple(
    (1 << 30) | (size << 16) | (ord("X") << 8) | number
    for size in _SPACE_RESV_SIZES
    for number in _PREALLOCATING_NUMBERS
)
_LOW_32_BITS = 0xFFFFFFFF
_SIGN_EXTENDED = 0xFFFFFFFF80000000  # a negative 32-bit command passed as a long (musl, Go's int)
_REMOVED_FROM_ALLOW = ("fallocate", "ioctl", "io_uring_setup", "io_uring_enter", "io_uring_register")


@cache
def default_profile() -> dict[str, Any]:
    """Docker's default profile as shipped (a fresh copy is made by ``step_profile``)."""
    return json.loads(DEFAULT_PROFILE_PATH.read_text())


def step_profile() -> dict[str, Any]:
    """The default profile without the allows of ``_REMOVED_FROM_ALLOW``, plus this module's rules."""
    profile = copy.deepcopy(default_profile())
    for rule in profile["syscalls"]:
        if rule["action"] == "SCMP_ACT_ALLOW":
            rule["names"] = [name for name in rule["names"] if name not in _REMOVED_FROM_ALLOW]
    profile["syscalls"] = [rule for rule in profile["syscalls"] if rule["names"]]
    profile["syscalls"] += [_refuse_fallocate(), *_refuse_preallocating_ioctls(), *_allow_other_ioctls()]
    return profile


def _refuse_fallocate() -> dict[str, Any]:
    return _rule("fallocate", "SCMP_ACT_ERRNO", [], errno_ret=errno.EOPNOTSUPP)


def _refuse_preallocating_ioctls() -> list[dict[str, Any]]:
    return [
        _rule("ioctl", "SCMP_ACT_ERRNO", [_compare("SCMP_CMP_MASKED_EQ", _LOW_32_BITS, command)], errno.EOPNOTSUPP)
        for command in PREALLOCATING_IOCTLS
    ]


def _allow_other_ioctls() -> list[dict[str, Any]]:
    """Any 32-bit command but the preallocating ones; any sign-extended one (none preallocates)."""
    others = [_compare("SCMP_CMP_LE", _LOW_32_BITS)]
    others += [_compare("SCMP_CMP_NE", command) for command in PREALLOCATING_IOCTLS]
    return [
        _rule("ioctl", "SCMP_ACT_ALLOW", others),
        _rule("ioctl", "SCMP_ACT_ALLOW", [_compare("SCMP_CMP_GE", _SIGN_EXTENDED)]),
    ]


def _compare(operator: str, value: int, value_two: int = 0) -> dict[str, Any]:
    """A comparison of ioctl's command (argument 1)."""
    return {"index": 1, "value": value, "valueTwo": value_two, "op": operator}


def _rule(name: str, action: str, args: list[dict[str, Any]], errno_ret: int | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"names": [name], "action": action, "args": args, "comment": "wave-sandbox"}
    return rule | ({"errnoRet": errno_ret} if errno_ret is not None else {})


@cache
def seccomp_security_opt() -> str:
    """The ``security_opt`` entry carrying the step profile (the JSON itself: the daemon reads no host path)."""
    return "seccomp=" + json.dumps(step_profile(), separators=(",", ":"))
