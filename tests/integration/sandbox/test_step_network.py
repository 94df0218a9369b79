"""A step has no network: loopback only, no route anywhere; its one way out is the Unix socket in the folder
of its run's gateway, mounted read-only at /run/wave-sandbox.

Only addresses of this machine are contacted: a server the test binds on 0.0.0.0, reached (the control)
from a container on Docker's default bridge. Two other addresses are tried from a step, a documentation
one (192.0.2.1, TEST-NET-1) and the cloud metadata one: with no route, the connection fails at once in
the step's own network namespace, so no packet leaves it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from wave_sandbox.bind_mount import BindMount, MountRole
from wave_sandbox.engine.gateway_reach import GATEWAY_SOCKET_FOLDER
from wave_sandbox.sandbox.backend import this_process_owner
from wave_sandbox.sandbox.registry import get_backend

from .helpers import TEST_USER, make_spec, new_run_id

pytestmark = pytest.mark.docker

CONNECT = """
import socket, sys, errno
host, port = sys.argv[1], int(sys.argv[2])
try:
    with socket.create_connection((host, port), timeout=float(sys.argv[3])) as s:
        print("reached", s.recv(100).decode())
except OSError as e:
    print("failed", errno.errorcode.get(e.errno, "timeout") if e.errno else "timeout")
"""

CONNECT_UNIX = """
import socket, sys, errno
try:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(sys.argv[1])
        print("reached", s.recv(100).decode())
except OSError as e:
    print("failed", errno.errorcode.get(e.errno, "timeout") if e.errno else "timeout")
"""

TRY_THE_FOLDER = """
import errno, os, sys
def attempt(action):
    try:
        action()
        return "done"
    except OSError as e:
        return errno.errorcode[e.errno]
print(attempt(lambda: open(os.path.join(sys.argv[1], "planted"), "w")), attempt(lambda: os.listdir(sys.argv[1])))
"""


def _serve_pong(listener: socket.socket, stop: threading.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError, OSError):
            connection, _ = listener.accept()
            with connection:
                connection.sendall(b"pong")


@contextlib.contextmanager
def pong_server(listener: socket.socket) -> Iterator[socket.socket]:
    """Answer "pong" to each connection on ``listener`` until the block ends."""
    listener.settimeout(0.2)
    stop = threading.Event()
    thread = threading.Thread(target=_serve_pong, args=(listener, stop), daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def unix_listener(path: str) -> socket.socket:
    """A socket at ``path`` that only the steps' user may connect to, as the gateway makes its own."""
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(8)
    uid, gid = (int(part) for part in TEST_USER.split(":"))
    if (uid, gid) != (os.getuid(), os.getgid()):
        os.chown(path, uid, gid)
    os.chmod(path, 0o600)
    return listener


@pytest.fixture
def docker_run(docker, runtime):
    """A prepared run of the Docker backend (its socket folder made), torn down after the test."""
    backend = get_backend("docker", client=docker)
    assert backend.check_runtime(runtime) == runtime  # runsc: registered with --host-uds=open here
    env = backend.prepare_run(new_run_id(), this_process_owner())
    yield backend, env, runtime
    assert backend.teardown_run(env) == []


def step_of(docker_run, image: str, **overrides):
    """A step of the run with its gateway folder mounted, as the engine mounts it for agent steps."""
    backend, env, runtime = docker_run
    folder = BindMount(Path(env.gateway_socket).parent, GATEWAY_SOCKET_FOLDER, True, MountRole.GATEWAY)
    values = dict(run_id=env.run_id, network=env.network, mounts=[folder], runtime=runtime) | overrides
    return backend.create(make_spec(image, **values))


def run_in(backend, handle, script: str, *arguments: str) -> str:
    result = backend.exec(handle, ["python3", "-c", script, *arguments], 30)
    assert result.exit_code == 0, result.stderr
    return result.stdout.decode().strip()


def test_a_prepared_run_has_no_network_and_a_socket_path_for_its_gateway(docker_run):
    _, env, _ = docker_run
    assert env.network is None and env.gateway_host is None and not env.firewalled
    assert env.gateway_socket.endswith("/socket/gateway.sock") and Path(env.gateway_socket).parent.is_dir()


def test_a_step_has_loopback_only(docker_run, agent_image):
    backend, env, _ = docker_run
    handle = step_of(docker_run, agent_image)
    listing = "import socket; print(sorted(name for _, name in socket.if_nameindex()))"
    assert run_in(backend, handle, listing) == "['lo']"


def test_a_step_reaches_a_socket_in_its_gateway_folder_and_nothing_else_there(docker_run, agent_image):
    backend, env, runtime = docker_run
    handle = step_of(docker_run, agent_image)
    inside = f"{GATEWAY_SOCKET_FOLDER}/{Path(env.gateway_socket).name}"
    assert run_in(backend, handle, CONNECT_UNIX, inside) == "failed ENOENT"  # the control: nothing listens yet
    with pong_server(unix_listener(env.gateway_socket)):
        assert run_in(backend, handle, CONNECT_UNIX, inside) == "reached pong"
    write, listing = run_in(backend, handle, TRY_THE_FOLDER, GATEWAY_SOCKET_FOLDER).split()
    # runc says the mount is read-only; gVisor checks the folder's owner first (root's, when the test is)
    assert write == "EROFS" or (runtime == "runsc" and write == "EACCES"), write
    if os.geteuid() == 0:  # the folder is root's, 0711, the step's user another: it may pass, not list
        assert listing == "EACCES"
    assert os.listdir(Path(env.gateway_socket).parent) == ["gateway.sock"]  # nothing planted beside it


def test_a_host_port_open_to_containers_is_not_reached_from_a_step(docker, docker_run, agent_image):
    backend, env, _ = docker_run
    bridge_gateway = docker.api.inspect_network("bridge")["IPAM"]["Config"][0]["Gateway"]
    step = step_of(docker_run, agent_image)
    on_the_bridge = step_of(docker_run, agent_image, step_id="bridged", network="bridge", mounts=[])
    with pong_server(socket.create_server(("0.0.0.0", 0))) as listener:
        port = str(listener.getsockname()[1])
        # The control: a container on Docker's default bridge reaches that host port.
        assert run_in(backend, on_the_bridge, CONNECT, bridge_gateway, port, "2") == "reached pong"
        assert run_in(backend, step, CONNECT, bridge_gateway, port, "2") == "failed ENETUNREACH"


def test_there_is_no_route_out_of_a_step(docker_run, agent_image):
    backend, env, _ = docker_run
    handle = step_of(docker_run, agent_image)
    for address, port in (("192.0.2.1", "53"), ("169.254.169.254", "80")):
        result = backend.exec(handle, ["python3", "-c", CONNECT, address, port, "5"], 30)
        assert result.stdout.decode().strip() == "failed ENETUNREACH" and result.duration_s < 2.5


def test_two_steps_of_one_run_share_no_network(docker, docker_run, agent_image):
    backend, env, _ = docker_run
    listening, other = step_of(docker_run, agent_image), step_of(docker_run, agent_image, step_id="other")
    serve = (
        "import socket\ns = socket.create_server(('0.0.0.0', 8080))\n"
        "while True:\n c, _ = s.accept(); c.sendall(b'pong'); c.close()"
    )
    exec_id = docker.api.exec_create(listening.container_id, ["python3", "-c", serve], user=listening.spec.user)["Id"]
    docker.api.exec_start(exec_id, detach=True)
    reached = ""
    for _ in range(50):  # the server needs a moment to listen
        if (reached := run_in(backend, listening, CONNECT, "127.0.0.1", "8080", "1")) == "reached pong":
            break
    assert reached == "reached pong"  # the control: it answers inside its own container
    assert run_in(backend, other, CONNECT, "127.0.0.1", "8080", "1") == "failed ECONNREFUSED"
