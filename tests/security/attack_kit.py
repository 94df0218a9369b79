"""Host-side tools of the attacker suite: scripted attacks, live runs, listeners, process watches.

An attack is a scripted model's tool call; the in-container half of the bigger ones lives in
``probes/`` and is piped into ``python3 -`` with a heredoc. Everything here observes from the host.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import threading
import time
from pathlib import Path

import docker.errors
import yaml

from tests.integration.conftest import CLI, git, run_objects
from tests.integration.conftest import gateway_socket_folders as run_gateway_socket_folders
from wave_sandbox.sandbox.labels import RUN_LABEL

PROBES = Path(__file__).with_name("probes")
TEXT = "text"


# ----- scripted attacks -----------------------------------------------------------------------
def bash(command: str, timeout_s: float | None = None) -> dict:
    arguments = {"command": command} | ({"timeout_s": timeout_s} if timeout_s else {})
    return {"type": "tool_use", "name": "bash", "input": arguments}


def say(text: str) -> list[dict]:
    return [{"type": TEXT, "text": text}]


def probe(name: str, arguments: str, output: str, then: str = "") -> str:
    """A bash command running ``probes/<name>.py`` with ``arguments``, its stdout going to ``output``;
    ``then`` continues the command line (``&& ...``)."""
    source = (PROBES / f"{name}.py").read_text()
    return f"python3 - {arguments} > {output} <<'PROBE_SOURCE' {then}\n{source}PROBE_SOURCE"


def write_pipeline(folder: Path, pipeline: dict, script: dict) -> tuple[Path, Path]:
    pipeline_file = folder / "pipeline.yaml"
    pipeline_file.write_text(yaml.safe_dump(pipeline, sort_keys=False))
    script_file = folder / "script.yaml"
    script_file.write_text(yaml.safe_dump(script, sort_keys=False))
    return pipeline_file, script_file


def make_repository(root: Path, personas: dict[str, dict] | None = None) -> Path:
    """A real git repository with one commit; ``personas`` become `.wave/personas/NAME.{md,yaml}`."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("def handler():\n    return 500\n")
    for name, settings in (personas or {}).items():
        folder = root / ".wave" / "personas"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.md").write_text("You probe the sandbox you run in.\n")
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(settings))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Initial service")
    return root


def unique_marker() -> str:
    """A number `sleep` accepts and nothing else on the host runs with: `sleep 1000.<digits>`."""
    return f"1000.{secrets.randbelow(10**9):09d}"


# ----- a run in the background ----------------------------------------------------------------
class LiveRun:
    """`wave-sandbox run ... --json` started in the background; its events arrive as they happen."""

    def __init__(self, arguments: list[str], cwd: Path, env: dict[str, str] | None = None):
        self.events: list[dict] = []
        self.stderr_lines: list[str] = []
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [str(CLI), "run", *arguments, "--json"], cwd=cwd, env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read_events, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_events(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self.events.append(json.loads(line))
                self._changed.notify_all()
        self.process.wait()
        with self._changed:  # the end of the output: nobody waits any longer for an event that cannot come
            self._changed.notify_all()

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self.stderr_lines.append(line)

    def wait_for_event(self, state: str, step_id: str | None = None, timeout_s: float = 120) -> dict:
        def found():
            return next((e for e in self.events if e["state"] == state and e["step_id"] == step_id), None)

        with self._changed:
            if not self._changed.wait_for(lambda: found() or self.process.poll() is not None, timeout_s):
                raise AssertionError(f"no {state} event for {step_id} within {timeout_s} s: {self.stderr}")
        event = found()
        if event is None:
            raise AssertionError(f"the run ended without a {state} event for {step_id}: {self.stderr}")
        return event

    @property
    def run_id(self) -> str:
        return self.wait_for_event("run_started")["run_id"]

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def finish(self, timeout_s: float = 180) -> int:
        try:
            code = self.process.wait(timeout_s)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        for reader in self._readers:
            reader.join(10)
        self.duration_s = time.monotonic() - self.started
        return code

    def step_event(self, step_id: str) -> dict:
        """The event that ended ``step_id`` (completed, failed or skipped)."""
        ends = [e for e in self.events if e["step_id"] == step_id and e["state"] in ("completed", "failed", "skipped")]
        assert ends, f"step {step_id} never ended: {self.stderr}"
        return ends[-1]


# ----- what the host sees -----------------------------------------------------------------------
class ProcessWatch:
    """Counts, every 50 ms, the host's processes whose command line holds each marker."""

    def __init__(self, markers: list[str]):
        self.markers = markers
        self.most_seen = dict.fromkeys(markers, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            for marker, count in count_processes(self.markers).items():
                self.most_seen[marker] = max(self.most_seen[marker], count)
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def count_processes(markers: list[str]) -> dict[str, int]:
    """How many host processes have each marker in their command line now."""
    counts = dict.fromkeys(markers, 0)
    for pid in (name for name in os.listdir("/proc") if name.isdigit()):
        try:  # a process may end between the listing and the read
            text = Path("/proc", pid, "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        for marker in markers:
            counts[marker] += marker in text
    return counts


class ContainerLogWatch:
    """The largest size, per step, of the engine's log file of a run's containers (on the host's disk)."""

    def __init__(self, client, run: LiveRun):
        self.docker, self.run = client, run
        self.largest: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        run_id = self.run.run_id
        while not self._stop.is_set():
            for container in self.docker.api.containers(filters={"label": f"{RUN_LABEL}={run_id}"}):
                try:
                    log_path = self.docker.api.inspect_container(container["Id"])["LogPath"]
                    size = os.stat(log_path).st_size if log_path else 0
                except (OSError, docker.errors.APIError):  # the container (and its log) went meanwhile
                    continue
                step = container["Labels"].get("wave-sandbox.step", "?")
                self.largest[step] = max(self.largest.get(step, 0), size)
            self._stop.wait(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


class SandboxWatch:
    """Per step of a run, seen from the host while its container lives: the container's id, the most
    host processes whose command line holds that id (gVisor's sandbox and gofer do; a guest's own
    processes are invisible on the host), and the most pids and bytes its cgroup held."""

    def __init__(self, client, run: LiveRun):
        self.docker, self.run = client, run
        self.container_ids: dict[str, str] = {}
        self.most_processes: dict[str, int] = {}
        self.most_pids: dict[str, int] = {}
        self.most_memory: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        run_id = self.run.run_id
        while not self._stop.is_set():
            for container in self.docker.api.containers(filters={"label": f"{RUN_LABEL}={run_id}"}):
                step = container["Labels"].get("wave-sandbox.step", "?")
                self.container_ids[step] = container["Id"]
                self._sample(step, container["Id"])
            self._stop.wait(0.1)

    def _sample(self, step: str, container_id: str) -> None:
        processes = count_processes([container_id])[container_id]
        self.most_processes[step] = max(self.most_processes.get(step, 0), processes)
        for controller, file, most in (("pids", "pids.current", self.most_pids),
                                       ("memory", "memory.max_usage_in_bytes", self.most_memory)):  # fmt: skip
            value = read_cgroup_v1_value(controller, container_id, file)
            if value is not None:
                most[step] = max(most.get(step, 0), value)

    def processes_left(self) -> dict[str, int]:
        """Host processes holding each step's container id now."""
        return count_processes(list(self.container_ids.values()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def read_cgroup_v1_value(controller: str, container_id: str, file: str) -> int | None:
    """A number from the container's cgroup (v1, cgroupfs driver: /sys/fs/cgroup/<controller>/docker/<id>/)."""
    try:
        return int((Path("/sys/fs/cgroup") / controller / "docker" / container_id / file).read_text())
    except (OSError, ValueError):
        return None


class TcpListener:
    """A TCP server on the host that counts the connections it accepts."""

    def __init__(self, host: str, port: int = 0):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server((host, port), family=family, reuse_port=False)
        self.host, self.port = host, self.socket.getsockname()[1]
        self.peers: list[tuple] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, peer = self.socket.accept()
            except OSError:
                return
            self.peers.append(peer)
            connection.close()

    def close(self) -> None:
        self.socket.close()


class UdpListener:
    """A UDP socket on the host that keeps every datagram it receives."""

    def __init__(self, host: str, port: int = 0):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((host, port))
        self.host, self.port = host, self.socket.getsockname()[1]
        self.datagrams: list[tuple] = []
        threading.Thread(target=self._receive, daemon=True).start()

    def _receive(self) -> None:
        while True:
            try:
                self.datagrams.append(self.socket.recvfrom(2048))
            except OSError:
                return

    def close(self) -> None:
        self.socket.close()


def host_ipv4_addresses() -> list[str]:
    """This host's own IPv4 addresses but loopback (docker0, eth0, ...), as an attacker would scan them."""
    listing = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=True).stdout.split()
    return [address for address in listing if ":" not in address]


def host_ipv6_addresses() -> list[str]:
    """This host's own global IPv6 addresses (none on many hosts)."""
    listing = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=True).stdout.split()
    return [address for address in listing if ":" in address]


def host_nameservers() -> list[str]:
    lines = Path("/etc/resolv.conf").read_text().splitlines()
    return [line.split()[1] for line in lines if line.startswith("nameserver") and ":" not in line]


def default_bridge_address(docker) -> str:
    """The host's address on Docker's default bridge (docker0), where containers of `bridge` reach the host."""
    configs = docker.api.inspect_network("bridge")["IPAM"]["Config"] or []
    return next(c["Gateway"] for c in configs if c.get("Gateway") and ":" not in c["Gateway"])


class UnixListener:
    """A Unix socket on the host (a path, or an abstract name starting with NUL) that counts its connections."""

    def __init__(self, address: str, mode: int = 0o666):
        self.address = address
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket.bind(address)
        if not address.startswith("\0"):
            os.chmod(address, mode)  # anyone may connect: only not seeing it keeps a step out
        self.socket.listen(16)
        self.peers = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.peers += 1
            connection.close()

    def close(self) -> None:
        self.socket.close()


def gateway_socket_folders(run_id: str) -> list[str]:
    """The gateway socket folders of ``run_id`` in the temporary folder (`wave-sandbox-gateway-<run id>-*`)."""
    return run_gateway_socket_folders({run_id})


def wait_for_gateway_socket(run_id: str, timeout_s: float = 60) -> Path:
    """The host path of ``run_id``'s gateway socket, once its gateway listens there."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for folder in gateway_socket_folders(run_id):
            socket_path = Path(folder) / "socket" / "gateway.sock"
            if socket_path.is_socket():
                return socket_path
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} made no gateway socket within {timeout_s} s")


def objects_of_run(docker, run_id: str) -> dict[str, list[str]]:
    """Everything still labelled with ``run_id`` (and firewall rules of older versions), and its gateway
    socket folder ("gateway sockets")."""
    return run_objects(docker, {run_id})


def objects_left_after(docker, run_id: str, timeout_s: float = 10) -> dict[str, list[str]]:
    """Poll until nothing of ``run_id`` remains (returns all-empty lists) or the time is up (returns what is left)."""
    deadline = time.monotonic() + timeout_s
    while any((left := objects_of_run(docker, run_id)).values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def files_holding(folder: Path, needles: list[bytes]) -> list[str]:
    """Files under ``folder`` (links not followed) that contain any of ``needles``."""
    found = []
    for root, _, names in os.walk(folder, followlinks=False):
        for name in names:
            path = Path(root) / name
            if not path.is_symlink() and path.is_file() and any(n in path.read_bytes() for n in needles):
                found.append(str(path))
    return found


def repository_state(repo: Path, ignored: set[str] = frozenset()) -> dict:
    """What a run must not change in the user's repository: working tree, HEAD, index, config, hooks.

    (A run may add its review branch: refs and objects are left out.)
    """
    def tree_file(path: Path) -> bool:
        parts = path.relative_to(repo).parts
        return ".git" not in parts and ".wave" not in parts and path.name not in ignored

    git_dir = repo / ".git"
    watched = [git_dir / "HEAD", git_dir / "config", git_dir / "index"]
    watched += sorted((git_dir / "hooks").rglob("*")) + sorted((git_dir / "info").rglob("*"))
    watched += [path for path in sorted(repo.rglob("*")) if tree_file(path)]
    status = git(repo, "status", "--porcelain").splitlines()
    return {
        "files": {str(p.relative_to(repo)): p.read_bytes() for p in watched if p.is_file()},
        "status": [line for line in status if line[3:] not in ignored],
    }
