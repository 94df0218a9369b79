"""What the fake adds for the runner's unit tests: container paths mapped to its folders."""

from __future__ import annotations

import sys

from wave_sandbox.sandbox.contract import BindMount, ContainerSpec
from wave_sandbox.sandbox.fake import FakeSandbox


def test_container_paths_in_arguments_map_to_the_fakes_folders(tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "app.py").write_text("code\n")
    (tmp_path / "step.json").write_text("{}")
    mounts = [BindMount(tmp_path / "repo", "/src"), BindMount(tmp_path / "step.json", "/wave/step.json")]
    sandbox = FakeSandbox(base_dir=tmp_path)
    handle = sandbox.create(
        ContainerSpec(
            "r",
            "s",
            "img",
            None,
            "1:1",
            {"K": "v", "HOME": "/home/wave", "PATH": "/nowhere", "W": "/workspace/x"},
            mounts=mounts,
        )
    )
    try:
        script = "cat /src/app.py /wave/step.json > /workspace/copy.txt; echo $K; echo $HOME; echo $W"
        result = sandbox.exec(handle, ["sh", "-c", script], 10)
        assert result.exit_code == 0 and result.stdout.decode().splitlines()[0] == "v"
        assert [c.content for c in sandbox.collect(handle, ["copy.txt"], 100)] == [b"code\n{}"]
        home, workspace_file = result.stdout.decode().splitlines()[1:3]
        assert home.startswith(str(tmp_path)) and workspace_file.startswith(str(tmp_path))
        assert sandbox._rewrite(sandbox._containers[handle.container_id], "/workspaces") == "/workspaces"
    finally:
        sandbox.destroy(handle)


def test_python_runs_as_this_interpreter(tmp_path):
    sandbox = FakeSandbox(base_dir=tmp_path)
    handle = sandbox.create(ContainerSpec("r", "s", "img", None, "1:1", {}))
    try:
        result = sandbox.exec(handle, ["python3", "-c", "import sys; print(sys.executable)"], 10)
        assert result.stdout.decode().strip() == sys.executable
    finally:
        sandbox.destroy(handle)
    assert not list(tmp_path.iterdir())


def test_a_small_read_only_file_mount_shows_its_container_paths_rewritten(tmp_path):
    (tmp_path / "step.json").write_text('{"workdir": "/workspace", "out": "/workspace/output/a.md"}')
    sandbox = FakeSandbox(base_dir=tmp_path)
    handle = sandbox.create(
        ContainerSpec("r", "s", "img", None, "1:1", {}, mounts=[BindMount(tmp_path / "step.json", "/wave/step.json")])
    )
    try:
        shown = sandbox.exec(handle, ["cat", "/wave/step.json"], 10).stdout.decode()
        workspace = str(sandbox._containers[handle.container_id].workspace)
        assert shown == f'{{"workdir": "{workspace}", "out": "{workspace}/output/a.md"}}'
        assert (tmp_path / "step.json").read_text().startswith('{"workdir": "/workspace"'), "the host file is untouched"
    finally:
        sandbox.destroy(handle)
