"""A live Unix socket in the user's tree (a development database's, a web server's) is never reachable from a step.

`connect` ignores a read-only mount, and gVisor, registered with `--host-uds=open` so that steps reach
their gateway's socket, connects to any host socket mounted into it. So every socket, FIFO and device
node under a mount is masked (`workspace/secrets.find_secret_files`): under runc an empty file goes over
it; under gVisor, which cannot mount a file over a socket, its folder is hidden, and one at the top of a
mount is refused with one line. A listener on the host counts what reaches it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import assert_run_left_nothing, git, run_cli
from tests.security.attack_kit import UnixListener

PIPELINE = """\
kind: WavePipeline
metadata:
  name: socket-probe
steps:
  - id: probe
    type: command
    workspace:
      mount:
        - {source: ./, target: /project, mode: readonly}
    script: |
      python3 - <<'PY' > .agents/output/probe.json
      import json, os, socket
      result = {}
      for path in ("/project/db/.s.PGSQL.5432", "/project/db/schema.sql", "/wave/attachments/att/admin.sock",
                   "/wave/attachments/att/notes.txt"):
          if not path.endswith(".sock") and not path.endswith(".5432"):
              result[path] = os.path.exists(path)
              continue
          client = socket.socket(socket.AF_UNIX)
          try:
              client.connect(path)
              result[path] = "connected"
          except OSError as error:
              result[path] = f"refused: {error.strerror}"
      print(json.dumps(result))
      PY
    output_artifacts:
      - {name: probe, path: .agents/output/probe.json, type: json}
"""


def host_listener(path: Path) -> UnixListener:
    """A Unix socket listening on the host at ``path`` (any user may connect, were it not masked); ``peers``
    counts the connections it got."""
    return UnixListener(str(path), mode=0o777)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".wave" / "pipelines").mkdir(parents=True)
    (repo / ".wave" / "pipelines" / "socket-probe.yaml").write_text(PIPELINE)
    (repo / "db").mkdir()
    (repo / "db" / "schema.sql").write_text("create table t (id int);\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    return repo


def _run(repo: Path, runtime: str, *extra: str):
    completed = run_cli("run", "socket-probe", "--repo", str(repo), "--model", "mock", "--runtime", runtime,
                        "--json", *extra, cwd=repo)
    events = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    return completed, events[-1] if events else {}


def test_a_live_socket_in_the_repository_is_unreachable_from_a_step(repository, runtime, docker):
    listener = host_listener(repository / "db" / ".s.PGSQL.5432")
    try:
        completed, last = _run(repository, runtime)
    finally:
        listener.close()
    assert completed.returncode == 0, completed.stderr
    probe = _probe(repository)
    assert probe["/project/db/.s.PGSQL.5432"].startswith("refused"), probe
    assert listener.peers == 0
    # runc masks the socket alone; gVisor hides its folder, the schema with it
    assert probe["/project/db/schema.sql"] is (runtime == "runc"), probe
    assert_run_left_nothing(docker, last["run_id"])


def test_a_live_socket_at_the_top_of_a_mount_is_masked_or_refused_in_one_line(repository, runtime, docker):
    listener = host_listener(repository / "top.sock")
    try:
        completed, last = _run(repository, runtime)
    finally:
        listener.close()
    assert listener.peers == 0
    if runtime == "runc":
        assert completed.returncode == 0, completed.stderr
    else:
        assert completed.returncode == 1
        assert "top.sock is a socket, FIFO or device at the top of a mounted folder" in last["message"], last
        assert "--runtime runc" in last["message"]
        assert "Traceback" not in completed.stderr + completed.stdout
    assert_run_left_nothing(docker, last["run_id"])


def test_a_live_socket_in_an_attached_folder_is_masked_and_a_socket_cannot_be_attached(repository, tmp_path,
                                                                                      runtime, docker):
    attached = tmp_path / "att" / "inner"
    attached.mkdir(parents=True)
    (attached.parent / "notes.txt").write_text("an incident export\n")
    listeners = [host_listener(attached / "admin.sock"), host_listener(tmp_path / "att" / "admin.sock")]
    try:
        completed, last = _run(repository, runtime, "--attach", str(tmp_path / "att"))
        refused = run_cli("run", "socket-probe", "--repo", str(repository), "--model", "mock",
                          "--attach", str(tmp_path / "att" / "admin.sock"), cwd=repository)
    finally:
        for listener in listeners:
            listener.close()
    assert refused.returncode == 2 and "not a regular file or folder" in refused.stderr, refused.stderr
    if runtime == "runc":  # the socket alone is masked, the export beside it stays
        assert completed.returncode == 0, completed.stderr
        probe = _probe(repository)
        assert probe["/wave/attachments/att/admin.sock"].startswith("refused"), probe
        assert probe["/wave/attachments/att/notes.txt"] is True, probe
    else:  # gVisor hides a socket's folder, and this one is the attachment's top: refused in one line
        assert completed.returncode == 1 and "at the top of a mounted folder" in last["message"], last
    assert all(listener.peers == 0 for listener in listeners)
    assert_run_left_nothing(docker, last["run_id"])


def _probe(repo: Path) -> dict:
    found = sorted(repo.rglob("probe.json"))
    found = [path for path in found if "/steps/probe/" in path.as_posix()]
    assert found, "the probe step's artifact should have been collected"
    return json.loads(found[-1].read_text())
