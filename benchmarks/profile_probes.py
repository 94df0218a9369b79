"""Timing probes wrapped around wave-sandbox's own functions, for `profile_run.py`.

Each probe replaces one attribute (a module function or a class method) with a wrapper that records
when it started (milliseconds since the process was spawned), how long it took, on which thread and
how deep in other probes. Docker API calls are recorded one by one. Nothing in wave_sandbox is edited:
the probes live only in the profiled process. A target that no longer exists is skipped and named.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import threading
import time
from dataclasses import dataclass

# (module, attribute path, label). Patch where the caller looks the name up: a name imported at a
# module's top is patched in that module; a name imported inside a function, in its own module.
PROBES: list[tuple[str, str, str]] = [
    ("wave_sandbox.cli.run_cmd", "launch_run", "launch_run (everything after argument parsing)"),
    ("wave_sandbox.engine.launch", "find_pipeline_file", "find pipeline file"),
    ("wave_sandbox.engine.launch", "load_pipeline", "load + validate pipeline and personas"),
    ("wave_sandbox.engine.launch", "check_repository", "check repository"),
    ("wave_sandbox.engine.launch", "choose_model", "choose model (load script)"),
    ("wave_sandbox.sandbox.docker_backend", "docker_client", "docker client + ping"),
    ("wave_sandbox.sandbox.docker_backend", "DockerBackend.capabilities", "engine facts + image status"),
    ("wave_sandbox.sandbox.docker_backend", "ensure_agent_image", "image check (ensure_agent_image)"),
    ("wave_sandbox.sandbox.images", "ensure_base_image", "base image check"),
    ("wave_sandbox.sandbox.images", "installed_anthropic_version", "anthropic version (importlib.metadata)"),
    ("wave_sandbox.sandbox.images", "_read_agent_code", "read agent code for the hash"),
    ("wave_sandbox.sandbox.images", "_daemon_architecture", "daemon architecture (GET /version)"),
    ("wave_sandbox.sandbox.docker_backend", "image_status", "agent image lookup (image_status)"),
    ("wave_sandbox.engine.launch", "remove_leftovers_of_dead_runs", "leftover sweep (labelled objects)"),
    ("wave_sandbox.sandbox.firewall", "firewall_run_ids", "iptables listing (rules of earlier versions)"),
    ("wave_sandbox.sandbox.firewall", "firewall_unavailable_reason", "firewall availability check"),
    ("wave_sandbox.sandbox.docker_backend", "remove_dead_gateway_socket_folders", "gateway socket folder sweep"),
    ("wave_sandbox.engine.liveness", "RunLease.acquire", "run lease"),
    ("wave_sandbox.engine.infrastructure", "RunInfrastructure.__init__", "infrastructure objects"),
    ("wave_sandbox.engine.runner", "PipelineRun.__init__", "PipelineRun init"),
    ("wave_sandbox.engine.records", "RunRecord.create", "run record create"),
    ("wave_sandbox.engine.infrastructure", "RunInfrastructure.start", "run infrastructure start"),
    ("wave_sandbox.engine.output_folder", "OutputFolder.prepare", "output folder prepare"),
    ("wave_sandbox.sandbox.docker_backend", "DockerBackend.prepare_run", "prepare run (no network)"),
    ("wave_sandbox.sandbox.docker_backend", "make_gateway_socket_folder", "gateway socket folder"),
    ("wave_sandbox.gateway.server", "Gateway.start", "gateway start (listen on the socket)"),
    ("wave_sandbox.gateway.server", "_restrict_socket", "socket chown + chmod 0600"),
    ("wave_sandbox.engine.infrastructure", "RunInfrastructure._prepare_clone", "read-write clone"),
    ("wave_sandbox.engine.runner", "PipelineRun._loop", "step loop"),
    ("wave_sandbox.engine.runner", "PipelineRun._run_step", "step (worker thread)"),
    ("wave_sandbox.engine.runner", "build_step_job", "build step job"),
    ("wave_sandbox.engine.runner", "execute_step", "execute step"),
    ("wave_sandbox.gateway.server", "Gateway.register_step", "register step token"),
    ("wave_sandbox.engine.step_execution", "gateway_reach", "gateway reach (socket mount + environment)"),
    ("wave_sandbox.sandbox.docker_sandbox", "DockerSandbox.create", "sandbox create"),
    ("wave_sandbox.sandbox.docker_sandbox", "create_workspace_volume", "volume create"),
    ("wave_sandbox.sandbox.docker_sandbox", "DockerSandbox._create_container", "container create"),
    ("wave_sandbox.sandbox.docker_sandbox", "DockerSandbox._start", "container start"),
    ("wave_sandbox.sandbox.docker_sandbox", "DockerSandbox._make_workspace_dirs", "mkdir exec"),
    ("wave_sandbox.sandbox.docker_sandbox", "DockerSandbox.exec", "exec"),
    ("wave_sandbox.sandbox.docker_sandbox", "DockerSandbox.collect", "collect artifacts"),
    ("wave_sandbox.sandbox.docker_sandbox", "DockerSandbox.destroy", "destroy container + volume"),
    ("wave_sandbox.sandbox.docker_sandbox", "remove_container_if_present", "container remove"),
    ("wave_sandbox.sandbox.docker_sandbox", "remove_volume_if_present", "volume remove"),
    ("wave_sandbox.engine.step_execution", "_judge", "judge + deliver artifacts"),
    ("wave_sandbox.engine.infrastructure", "RunInfrastructure.commit_step_changes", "commit to run branch"),
    ("wave_sandbox.engine.runner", "PipelineRun._step_finished", "record step end"),
    ("wave_sandbox.engine.runner", "PipelineRun._teardown_uninterruptibly", "teardown"),
    ("wave_sandbox.gateway.server", "Gateway.stop", "gateway stop"),
    ("wave_sandbox.sandbox.docker_backend", "DockerBackend.teardown_run", "teardown run"),
    ("wave_sandbox.sandbox.cleanup", "ResourceRegistry.remove_all", "registry remove_all"),
    ("wave_sandbox.sandbox.gateway_socket", "GatewaySocketFolder.remove", "gateway socket folder removal"),
    ("wave_sandbox.sandbox.cleanup", "remove_network_if_present", "network removal (leftovers of earlier versions)"),
    ("wave_sandbox.workspace.clone", "remove_clone", "clone removal"),
    ("wave_sandbox.engine.runner", "PipelineRun._finish", "finish (record, branch report)"),
    ("wave_sandbox.sandbox.firewall", "_iptables", "iptables"),
    ("wave_sandbox.gateway.server", "Gateway.handle_post", "gateway request (model exchange)"),
]
AGENT_EXEC_LABEL = "exec python3 (the agent)"
DOCKER_ID = re.compile(r"[0-9a-f]{64}")
API_VERSION_PREFIX = re.compile(r"^/v[0-9.]+")
OBJECT_NAME = re.compile(r"/(volumes|images)/(?!create\b)[^/]+")


@dataclass
class Span:
    label: str
    start_ms: float
    duration_ms: float
    depth: int
    thread: str
    path: str
    """The labels of the enclosing probes on this thread and this one, joined by " > "."""


class Recorder:
    """Collects spans; `origin` is the process's spawn on the CLOCK_MONOTONIC scale of perf_counter."""

    def __init__(self, origin: float):
        self.origin = origin
        self.spans: list[Span] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    def now_ms(self) -> float:
        return (time.perf_counter() - self.origin) * 1000

    def timed(self, label: str, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            stack = self._stack()
            stack.append(label_of(label, args))
            started = self.now_ms()
            try:
                return function(*args, **kwargs)
            finally:
                path = " > ".join(stack)
                stack.pop()
                self.add(path.rsplit(" > ", 1)[-1], started, self.now_ms() - started, len(stack), path)

        return wrapper

    def add(self, label: str, start_ms: float, duration_ms: float, depth: int, path: str | None = None) -> None:
        thread = threading.current_thread().name
        with self._lock:
            self.spans.append(Span(label, start_ms, duration_ms, depth, thread, path or label))

    def _stack(self) -> list[str]:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        return self._local.stack


def label_of(label: str, args: tuple) -> str:
    """Name the Docker API call, the iptables arguments or the exec'd program; the rest keep their label."""
    if label == "docker API":
        method, url = args[1], args[2]
        path = API_VERSION_PREFIX.sub("", url.split("localhost", 1)[-1].split("?")[0])
        path = OBJECT_NAME.sub(r"/\1/<name>", DOCKER_ID.sub("<id>", path))
        return f"docker API {method} {path}"
    if label == "iptables":
        return "iptables " + " ".join(args[:2])
    if label == "exec":
        argv = args[2]
        return AGENT_EXEC_LABEL if any("wave_sandbox.agent" in part for part in argv) else f"exec {argv[0]}"
    return label


def install_probes(recorder: Recorder) -> list[str]:
    """Wrap every probe target; returns the targets that could not be found."""
    missing = []
    for module_name, attribute_path, label in PROBES:
        if not wrap_attribute(recorder, module_name, attribute_path, label):
            missing.append(f"{module_name}.{attribute_path}")
    import docker.api.client

    docker.api.client.APIClient.request = recorder.timed("docker API", docker.api.client.APIClient.request)
    return missing


def wrap_attribute(recorder: Recorder, module_name: str, attribute_path: str, label: str) -> bool:
    try:
        owner = importlib.import_module(module_name)
    except ImportError:
        return False
    *parents, name = attribute_path.split(".")
    for parent in parents:
        owner = getattr(owner, parent, None)
    if owner is None or not hasattr(owner, name):
        return False
    static = inspect.getattr_static(owner, name)
    if isinstance(static, classmethod):
        setattr(owner, name, classmethod(recorder.timed(label, static.__func__)))
    elif isinstance(static, staticmethod):
        setattr(owner, name, staticmethod(recorder.timed(label, static.__func__)))
    else:
        setattr(owner, name, recorder.timed(label, static))
    return True
