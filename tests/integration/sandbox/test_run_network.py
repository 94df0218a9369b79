"""The run network: a container reaches its gateway's port and nothing else.

Only addresses of this machine are contacted: servers the test binds on the bridge's gateway address
or 0.0.0.0. Two other addresses are tried, a documentation one (192.0.2.1, TEST-NET-1) and the cloud
metadata one: the host refuses to forward them (ENETUNREACH at once), so no packet leaves the host.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from wave_sandbox.sandbox import firewall
from wave_sandbox.sandbox.cleanup import ResourceRegistry
from wave_sandbox.sandbox.docker_sandbox import DockerSandbox
from wave_sandbox.sandbox.networks import allow_gateway_port, create_run_network, remove_run_network

from .helpers import make_spec, new_run_id

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(
        firewall.firewall_unavailable_reason() is not None, reason="host firewall rules unavailable here"
    ),
]

CONNECT = """
import socket, sys, errno
host, port = sys.argv[1], int(sys.argv[2])
try:
    with socket.create_connection((host, port), timeout=float(sys.argv[3])) as s:
        print("reached", s.recv(100).decode())
except OSError as e:
    print("failed", errno.errorcode.get(e.errno, "timeout") if e.errno else "timeout")
"""


@contextlib.contextmanager
def tcp_server(host: str) -> Iterator[int]:
    """A server on the host answering "pong" to each connection; yields its port."""
    listener = socket.create_server((host, 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                connection, _ = listener.accept()
                with connection:
                    connection.sendall(b"pong")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        listener.close()


@pytest.fixture(scope="module")
def run_network(docker):
    """One firewalled run network for the whole module (its objects are checked at module end)."""
    registry = ResourceRegistry(docker)
    network = create_run_network(docker, new_run_id(shared=True), registry)
    yield network, registry
    remove_run_network(docker, network, registry)
    assert registry.remove_all() == []


@pytest.fixture
def container_on(docker, agent_image):
    """Start a sandbox on a network; destroyed after the test."""
    made = []

    def start(network):
        sandbox = DockerSandbox(docker, ResourceRegistry(docker))
        made.append(
            (sandbox, sandbox.create(make_spec(agent_image, run_id=network.run_id, network=network.name)))
        )
        return made[-1]

    yield start
    for sandbox, handle in made:
        sandbox.destroy(handle)


def connect(sandbox, handle, host: str, port: int, timeout_s: float = 2.0) -> str:
    result = sandbox.exec(handle, ["python3", "-c", CONNECT, host, str(port), str(timeout_s)], 30)
    return result.stdout.decode().strip()


def test_the_network_is_internal_with_a_gateway_and_a_drop_rule(docker, run_network):
    network, _ = run_network
    inspected = docker.api.inspect_network(network.id)
    assert inspected["Internal"] and inspected["Options"]["com.docker.network.bridge.enable_icc"] == "false"
    assert inspected["Labels"]["wave-sandbox.run"] == network.run_id and network.gateway_ip
    assert network.firewalled and network.run_id in firewall.firewall_run_ids()


def test_a_server_on_the_gateway_port_is_reached(run_network, container_on):
    network, _ = run_network
    sandbox, handle = container_on(network)
    with tcp_server(network.gateway_ip) as port:
        allow_gateway_port(network, port)
        assert connect(sandbox, handle, network.gateway_ip, port) == "reached pong"


def test_closing_the_gateway_port_leaves_the_network_shut_in(run_network, container_on):
    network, _ = run_network
    sandbox, handle = container_on(network)
    with tcp_server(network.gateway_ip) as port:
        rule = allow_gateway_port(network, port)
        assert connect(sandbox, handle, network.gateway_ip, port) == "reached pong"
        assert rule.remove() == 1 and rule.remove() == 0
        assert connect(sandbox, handle, network.gateway_ip, port, timeout_s=1.0) == "failed timeout"
    assert network.run_id in firewall.firewall_run_ids()


def test_another_host_port_bound_on_all_addresses_is_not_reached(run_network, container_on):
    network, _ = run_network
    sandbox, handle = container_on(network)
    with tcp_server("0.0.0.0") as port:
        assert connect(sandbox, handle, network.gateway_ip, port, timeout_s=1.0) == "failed timeout"


def test_without_firewall_rules_that_port_would_be_reached(docker, container_on):
    """The control of the test above: the firewall, not the network, closes the host's ports."""
    registry = ResourceRegistry(docker)
    network = create_run_network(docker, new_run_id(), registry, firewall_rules=False)
    try:
        sandbox, handle = container_on(network)
        with tcp_server("0.0.0.0") as port:
            assert connect(sandbox, handle, network.gateway_ip, port) == "reached pong"
        sandbox.destroy(handle)
    finally:
        assert registry.remove_all() == []


def test_there_is_no_route_out_of_the_network(run_network, container_on):
    network, _ = run_network
    sandbox, handle = container_on(network)
    for address, port in (("192.0.2.1", 53), ("169.254.169.254", 80)):
        result = sandbox.exec(handle, ["python3", "-c", CONNECT, address, str(port), "5"], 30)
        assert result.stdout.decode().strip() == "failed ENETUNREACH" and result.duration_s < 2.5


def test_containers_of_one_run_cannot_reach_each_other(docker, run_network, container_on):
    network, _ = run_network
    (listening_sandbox, listener), (sandbox, handle) = container_on(network), container_on(network)
    serve = (
        "import socket\ns = socket.create_server(('0.0.0.0', 8080))\n"
        "while True:\n c, _ = s.accept(); c.sendall(b'pong'); c.close()"
    )
    exec_id = docker.api.exec_create(
        listener.container_id, ["python3", "-c", serve], user=listener.spec.user
    )["Id"]
    docker.api.exec_start(exec_id, detach=True)
    address = docker.api.inspect_container(listener.container_id)["NetworkSettings"]["Networks"][
        network.name
    ]["IPAddress"]
    # The server answers on its own address from inside its container: only the network keeps the other out.
    assert connect(listening_sandbox, listener, address, 8080) == "reached pong"
    assert connect(sandbox, handle, address, 8080, timeout_s=1.0) in ("failed timeout", "failed ENETUNREACH")


def test_removing_the_network_removes_its_firewall_rules(docker):
    registry = ResourceRegistry(docker)
    network = create_run_network(docker, new_run_id(), registry)
    allow_gateway_port(network, 12345)
    assert (
        sum(1 for rid, _ in firewall.wave_sandbox_rules(firewall._iptables("-S")) if rid == network.run_id)
        == 3
    )
    remove_run_network(docker, network, registry)
    assert network.run_id not in firewall.firewall_run_ids() and registry.is_empty


def test_leftover_rules_are_removed_by_run_id(docker):
    run_id, other_run_id = new_run_id(), new_run_id()
    firewall.drop_all_input_from_bridge("wsbx-testonly", run_id)
    firewall.drop_all_input_from_bridge("wsbx-testonly", other_run_id)
    assert firewall.remove_firewall_rules(run_id) == 2
    assert run_id not in firewall.firewall_run_ids() and other_run_id in firewall.firewall_run_ids()
    assert firewall.remove_firewall_rules(other_run_id) == 2
