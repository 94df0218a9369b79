"""The gateway on a Unix socket (how steps with no network reach it): it answers there, only its owner may
connect (0600), the socket goes when it stops, and a place it cannot listen on fails in one line."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path

import pytest

from wave_sandbox.agent import model_client
from wave_sandbox.errors import GatewayError
from wave_sandbox.gateway import Gateway
from wave_sandbox.gateway.script_file import load_script
from wave_sandbox.gateway.scripted import ScriptedUpstream
from wave_sandbox.gateway.server import SOCKET_BASE_URL

from .conftest import write_script

SCRIPT = """\
steps:
  triage:
    - - {type: text, text: "Triage complete"}
"""


@pytest.fixture
def folder():
    """A short folder for sockets (pytest's tmp_path may be deeper than a socket's 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="wsgw-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def upstream(tmp_path) -> ScriptedUpstream:
    return ScriptedUpstream(load_script(write_script(tmp_path, SCRIPT)))


def test_a_gateway_on_a_socket_answers_the_agents_own_client_there(folder, upstream, tmp_path, monkeypatch):
    socket_path = folder / "gateway.sock"
    with Gateway(upstream, unix_socket=socket_path) as gateway:
        assert gateway.unix_socket == str(socket_path) and gateway.port is None
        assert gateway.base_url == SOCKET_BASE_URL == "http://wave-sandbox-gateway"
        token = gateway.register_step("triage", tmp_path / "triage.jsonl")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", gateway.base_url)  # a name never looked up
        monkeypatch.setenv("ANTHROPIC_API_KEY", token)
        monkeypatch.setenv(model_client.GATEWAY_SOCKET_VARIABLE, str(socket_path))
        client = model_client.create_model_client()
        answer = client.messages.create(
            model="claude-test", max_tokens=64, messages=[{"role": "user", "content": "500 errors"}]
        )
        assert answer.content[0].text == "Triage complete"
        assert gateway.usage("triage").requests == 1
        assert model_client.model_base_url() == f"the gateway's socket {socket_path}"


def test_the_socket_is_the_owners_alone_and_goes_when_the_gateway_stops(folder, upstream):
    socket_path = folder / "gateway.sock"
    gateway = Gateway(upstream, unix_socket=socket_path)
    gateway.start()
    try:
        made = os.stat(socket_path)
        assert stat.S_ISSOCK(made.st_mode) and stat.S_IMODE(made.st_mode) == 0o600
        assert (made.st_uid, made.st_gid) == (os.getuid(), os.getgid())
    finally:
        gateway.stop()
    assert not socket_path.exists()
    gateway.stop()  # a second stop finds nothing to do


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_the_socket_is_given_to_the_steps_user(folder, upstream):
    socket_path = folder / "gateway.sock"
    with Gateway(upstream, unix_socket=socket_path, socket_owner=(10001, 10001)):
        made = os.stat(socket_path)
        assert (made.st_uid, made.st_gid) == (10001, 10001) and stat.S_IMODE(made.st_mode) == 0o600


def test_a_socket_in_a_missing_folder_fails_in_one_line_and_leaves_nothing(folder, upstream):
    socket_path = folder / "absent" / "gateway.sock"
    gateway = Gateway(upstream, unix_socket=socket_path)
    with pytest.raises(GatewayError) as refused:
        gateway.start()
    line = str(refused.value)
    assert "\n" not in line and line.startswith(f"the gateway cannot listen on the socket {socket_path}: ")
    assert "Check that its folder exists and is writable here." in line
    assert gateway.connection_server is None and not socket_path.parent.exists()
    with pytest.raises(GatewayError, match="no address until it is started"):
        gateway.base_url


def test_a_path_that_is_taken_fails_and_what_is_there_stays(folder, upstream):
    """A file already at the path is not the gateway's: it is not listened on, nor removed."""
    taken = folder / "gateway.sock"
    taken.write_text("someone else's\n")
    with pytest.raises(GatewayError, match="cannot listen on the socket") as refused:
        Gateway(upstream, unix_socket=taken).start()
    assert "\n" not in str(refused.value) and taken.read_text() == "someone else's\n"


@pytest.mark.parametrize("places", [{}, {"bind_host": "127.0.0.1", "unix_socket": "/tmp/wsgw-both.sock"}])
def test_the_gateway_needs_exactly_one_place_to_listen(upstream, places):
    with pytest.raises(GatewayError, match="one place to listen: a Unix socket or a TCP address"):
        Gateway(upstream, **places)


def test_on_tcp_the_gateway_has_a_port_and_no_socket(upstream):
    with Gateway(upstream, "127.0.0.1") as gateway:
        assert gateway.unix_socket is None and gateway.port > 0
        assert gateway.base_url == f"http://127.0.0.1:{gateway.port}"


def test_a_second_gateway_on_the_same_socket_fails_and_the_first_still_answers(folder, upstream, tmp_path):
    socket_path = folder / "gateway.sock"
    with Gateway(upstream, unix_socket=socket_path) as first:
        with pytest.raises(GatewayError, match="cannot listen on the socket"):
            Gateway(upstream, unix_socket=socket_path).start()
        assert stat.S_ISSOCK(os.stat(socket_path).st_mode), "the failed start removed the first gateway's socket"
        token = first.register_step("triage", tmp_path / "triage.jsonl")
        connection = _unix_connection(socket_path)
        connection.request("POST", "/v1/messages", body=b"{}", headers={"x-api-key": token})
        assert connection.getresponse().status == 400  # reached, and the empty request refused as the API would


def _unix_connection(socket_path: Path) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection("wave-sandbox-gateway", timeout=10)
    connection.sock = socket.socket(socket.AF_UNIX)
    connection.sock.connect(str(socket_path))
    return connection
