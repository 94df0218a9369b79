"""The container runtime a step runs under: the engine's default (runc) or gVisor (runsc).

gVisor puts a user-space kernel (the Sentry) between the agent and the host's kernel. Every other
control keeps its meaning, with two differences that ``runtime_host_config`` makes up for:

- The pids limit of the container's cgroup counts the *host* threads of the sandbox (the Sentry,
  the Gofer and, on the ptrace platform, several per guest process), about 50 at rest and 6-9 per
  guest process. A limit of the persona's ``pids`` would leave the agent a handful, and when the
  cgroup refuses a thread the whole sandbox dies. So under runsc the persona's ``pids`` becomes
  the guest's own limit (RLIMIT_NPROC, which gVisor counts inside the sandbox, not host-wide as
  Linux would for the host user), and the cgroup holds the sandbox's host threads to a ceiling
  derived from it (``gvisor_host_pids``).
- Memory the guest touches is charged to the container's cgroup as the Sentry's memory: at the cap
  the kernel's OOM killer ends the whole sandbox, not just the greedy process.

Networking: steps have no network (Docker's ``none``) and reach their gateway through a Unix socket
bind-mounted from the host (``gateway_socket.py``). gVisor connects to a host socket only when its
runtime is registered with ``--host-uds=open`` (or ``all``): ``chosen_runtime`` refuses runsc without
it, in one line saying what to add. ``--network=host`` (SECURITY.md, ``.ci/run``) runs the Sentry's
network stack in the container's own network namespace, which holds only loopback.
"""

from __future__ import annotations

import json
from typing import Any

import docker
import docker.errors

from wave_sandbox.errors import ConfigurationError

__all__ = [
    "GVISOR",
    "RUNTIME_CHOICES",
    "check_runtime_name",
    "chosen_runtime",
    "engine_runtimes",
    "gvisor_host_pids",
    "gvisor_seccomp_gap",
    "gvisor_probe",
    "runtime_host_config",
]

GVISOR = "runsc"
RUNTIME_CHOICES = ("runc", GVISOR)
GVISOR_RUNTIME_ARGS = ("--network=host", "--host-uds=open")
"""How runsc is registered (``.ci/run``): the container's own network namespace, and connecting to the gateway's socket."""
GVISOR_INSTALL_HINT = (
    "install it (Debian/Ubuntu: `apt-get install runsc`) and register it in /etc/docker/daemon.json as "
    '"runtimes": {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ' + json.dumps(list(GVISOR_RUNTIME_ARGS)) + "}}, "
    "then reload dockerd (SIGHUP); see SECURITY.md"
)
_HOST_UDS_CONNECTING = ("open", "all")
# Host threads of an idle sandbox (measured: ~50) and per guest process on the ptrace platform (6-9).
_GVISOR_BASE_THREADS = 128
_GVISOR_THREADS_PER_PROCESS = 8
# `ls` as the agent's bash runs it: it fails on gVisor releases whose statx rejects AT_NO_AUTOMOUNT
# (Debian 12's runsc 20221219 among them), while Python's own file calls work.
_PROBE_COMMAND = ["sh", "-c", "echo started; ls / >/dev/null 2>&1 && echo ls-ok"]


def engine_runtimes(client: docker.DockerClient) -> list[str]:
    """The runtimes the engine lists in ``docker info``."""
    return sorted(client.info().get("Runtimes") or {})


def gvisor_seccomp_gap(client: docker.DockerClient) -> str | None:
    """None when the engine's runsc applies a container's seccomp profile (``--oci-seccomp``), else what
    that leaves open (one clause): without the flag gVisor ignores the step profile (``seccomp_profile.py``)."""
    registered = (client.info().get("Runtimes") or {}).get(GVISOR) or {}
    if any(arg.lstrip("-") in ("oci-seccomp", "oci-seccomp=true") for arg in registered.get("runtimeArgs") or []):
        return None
    return "runsc, registered without --oci-seccomp, ignores the step's seccomp profile: a step under it can fallocate"


def check_runtime_name(runtime: str | None) -> str | None:
    """``runtime`` when it is None (the engine's default) or a runtime we support; else ConfigurationError."""
    if runtime is not None and runtime not in RUNTIME_CHOICES:
        raise ConfigurationError(f"--runtime {runtime}: choose one of {', '.join(RUNTIME_CHOICES)}")
    return runtime


def gvisor_connects_host_sockets(runtime_args: list[str]) -> bool:
    """Whether runsc registered with ``runtime_args`` lets a sandbox connect to a bind-mounted host socket."""
    for index, arg in enumerate(runtime_args):
        name, _, value = arg.lstrip("-").partition("=")
        if name == "fsgofer-host-uds" and value in ("", "true"):
            return True
        if name == "host-uds":
            value = value or (runtime_args[index + 1] if index + 1 < len(runtime_args) else "")
            if value in _HOST_UDS_CONNECTING:
                return True
    return False


def chosen_runtime(runtime: str, listed: list[str], runtime_args: dict[str, list[str]] | None = None) -> str:
    """``runtime`` when it is a choice we support and the engine lists it (runsc: registered so that its steps
    can reach the gateway's socket); else one line saying what to do."""
    check_runtime_name(runtime)
    if runtime in listed:
        if runtime == GVISOR and runtime_args is not None and not gvisor_connects_host_sockets(runtime_args.get(GVISOR, [])):
            raise ConfigurationError(
                "--runtime runsc: the engine's runsc is registered without --host-uds=open, so its steps could not "
                "reach their gateway's socket; add \"--host-uds=open\" to its runtimeArgs in /etc/docker/daemon.json "
                "and reload dockerd (SIGHUP); see SECURITY.md"
            )
        return runtime
    hint = GVISOR_INSTALL_HINT if runtime == GVISOR else "check `docker info`"
    raise ConfigurationError(
        f"--runtime {runtime}: the Docker engine has no '{runtime}' runtime (it lists {', '.join(listed) or 'none'}); {hint}"
    )


def gvisor_host_pids(guest_pids: int) -> int:
    """The cgroup's pids limit for a gVisor sandbox whose guest may hold ``guest_pids`` processes."""
    return _GVISOR_BASE_THREADS + guest_pids * _GVISOR_THREADS_PER_PROCESS


def runtime_host_config(runtime: str | None, pids: int) -> dict[str, Any]:
    """The host-config entries that depend on the runtime (see the module's docstring)."""
    if runtime is None:
        return {"pids_limit": pids}
    if runtime != GVISOR:
        return {"runtime": runtime, "pids_limit": pids}
    guest_limit = docker.types.Ulimit(name="nproc", soft=pids, hard=pids)
    return {"runtime": GVISOR, "pids_limit": gvisor_host_pids(pids), "ulimits": [guest_limit]}


def runtime_probe(client: docker.DockerClient, image: str, runtime: str) -> tuple[bool, str]:
    """``gvisor_probe`` for gVisor; any other runtime the engine lists is taken as working."""
    if runtime != GVISOR:
        return True, f"the engine lists {runtime}"
    works, detail = gvisor_probe(client, image)
    gap = gvisor_seccomp_gap(client)
    return works, f"{detail}; {gap}" if gap else detail


def gvisor_probe(client: docker.DockerClient, image: str) -> tuple[bool, str]:
    """Run ``ls /`` in a throw-away runsc container of ``image``; (works, one line saying how it went)."""
    container = None
    try:
        container = client.containers.create(
            image, _PROBE_COMMAND, runtime=GVISOR, network_mode="none", read_only=True,
            cap_drop=["ALL"], labels={"wave-sandbox.probe": "gvisor"}, user="65534:65534",
        )  # fmt: skip
        container.start()
        status = container.wait(timeout=60).get("StatusCode")
        output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace").strip()
    except (docker.errors.APIError, docker.errors.DockerException) as error:
        return False, f"a runsc container did not start: {_first_line(str(error))}"
    except Exception as error:  # the wait's read timeout (requests) among others
        return False, f"a runsc container did not finish: {_first_line(str(error))}"
    finally:
        if container is not None:
            _remove_quietly(container)
    if status == 0 and output.endswith("ls-ok"):
        return True, "a runsc container starts and runs `ls /`"
    if output.startswith("started"):
        return True, (
            "a runsc container starts, but `ls` fails in it (this gVisor release's statx rejects "
            "AT_NO_AUTOMOUNT; try a current runsc from gvisor.dev): steps run, the agent's `ls`/`stat` commands do not"
        )
    return False, f"a runsc container did not run ({_first_line(output) or f'exit {status}'})"


def _first_line(text: str) -> str:
    return text.splitlines()[0][:200] if text else ""


def _remove_quietly(container: Any) -> None:
    try:
        container.remove(force=True)
    except docker.errors.APIError:
        pass
