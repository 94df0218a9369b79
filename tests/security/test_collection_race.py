"""The collection race: a step leaves processes that swap its artifact folders for links to secrets.

The agent writes a decoy artifact in each of nine folders, then leaves (in a new session) nine
processes that exchange each folder with a symbolic link, about every millisecond: to the repository
file `secret.txt` (mode 0600, which the agent's user cannot read), to the masked `.env`, and to the
masked `.wave/runs/earlier-run` holding a run record. A collector that checks a folder and then reads
through it (as the engine's archive API did: as root, without the container's tmpfs masks) delivers
the secret whenever the link comes in between. The swapping outlives the agent: its last tool call
copies the loop's heartbeat, then the model waits two seconds before its final answer; the heartbeat
collected with the artifacts must show the swapping went on past that.

Collection stops every leftover process first and reads from inside the container, one O_NOFOLLOW
open at a time, as the agent's user: no secret may reach the run record, `--output` or the console.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest

from tests.integration.conftest import assert_run_left_nothing
from tests.security.attack_kit import (
    LiveRun,
    bash,
    files_holding,
    make_repository,
    say,
    write_pipeline,
)

pytestmark = pytest.mark.docker

MARKER = f"collection-race-secret-{secrets.token_hex(12)}"
# Per kind of secret: where the link goes and the artifact names (unique: --output is flat), each a
# file there holding MARKER. Mode 0600 files in the repository, masked files, and a masked run record.
TARGETS = {
    "private": ("/src", ["secret.txt", "token.txt", "notes.txt"]),
    "masked": ("/src", [".env", "deploy.pem", "id_ed25519"]),
    "record": ("/src/.wave/runs/earlier-run", ["run.json", "events.jsonl", "summary.md"]),
}
FOLDERS = [(f"{kind}{n}", name, target) for kind, (target, names) in TARGETS.items() for n, name in enumerate(names)]
LAST_TURN_DELAY_S = 2
PROBE = Path(__file__).with_name("probes") / "swap_artifact_folders.py"


def start_swapping_command() -> str:
    decoys = "; ".join(f"mkdir -p {folder} && echo decoy-{folder} > {folder}/{name}" for folder, name, _ in FOLDERS)
    pairs = " ".join(f"{folder}={target}" for folder, _, target in FOLDERS)
    return (
        f"cd /workspace && mkdir -p beat && {decoys}\n"
        f"cat > /tmp/swap.py <<'PROBE_SOURCE'\n{PROBE.read_text()}PROBE_SOURCE\n"
        f"setsid nohup python3 /tmp/swap.py /workspace/beat/count.json {pairs} >/tmp/swap.log 2>&1 </dev/null &\n"
        "sleep 1; cat /tmp/swap.log; cat beat/count.json"
    )


def race_pipeline() -> dict:
    outputs = [{"name": folder, "path": f"{folder}/{name}"} for folder, name, _ in FOLDERS]
    outputs += [{"name": "beat", "path": "beat/count.json"}, {"name": "beat_at_last_call", "path": "beat/last.json"}]
    return {
        "kind": "WavePipeline",
        "metadata": {"name": "collection-race"},
        "steps": [{
            "id": "swap", "persona": "navigator", "exec": {"source": "swap the artifact folders"},
            "workspace": {"mount": [{"source": "./", "target": "/src", "mode": "readonly"}]},
            "output_artifacts": outputs,
        }],
    }  # fmt: skip


def race_script() -> dict:
    return {"steps": {"swap": [
        [bash(start_swapping_command())],
        [bash("cp /workspace/beat/count.json /workspace/beat/last.json && cat /workspace/beat/last.json")],
        {"delay_s": LAST_TURN_DELAY_S, "content": say("Artifacts written")},
    ]}}  # fmt: skip


def hostile_repository(root: Path) -> Path:
    repo = make_repository(root)
    for name in TARGETS["private"][1]:
        (repo / name).write_text(MARKER)
        os.chmod(repo / name, 0o600)
    for name in TARGETS["masked"][1]:
        (repo / name).write_text(MARKER)
    earlier = repo / ".wave" / "runs" / "earlier-run"
    earlier.mkdir(parents=True)
    for name in TARGETS["record"][1]:
        (earlier / name).write_text(MARKER)
    return repo


@pytest.fixture(scope="module")
def race(tmp_path_factory, docker, agent_image):
    base = tmp_path_factory.mktemp("collection-race")
    repo = hostile_repository(base / "service")
    pipeline, script = write_pipeline(base, race_pipeline(), race_script())
    run = LiveRun([str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}",
                   "--output", str(base / "out")], cwd=base)  # fmt: skip
    exit_code = run.finish()
    return {"run": run, "exit_code": exit_code, "repo": repo, "out": base / "out",
            "record": repo / ".wave" / "runs" / run.run_id}  # fmt: skip


def beat(race, name: str) -> dict:
    return json.loads((race["record"] / "steps" / "swap" / "artifacts" / name).read_text())


def test_the_run_ends_with_the_step_judged_not_crashed(race):
    assert race["exit_code"] in (0, 1), race["run"].stderr  # 1: some artifacts were refused, as they should be
    assert race["run"].step_event("swap")["state"] in ("completed", "failed")
    assert "Traceback" not in race["run"].stderr and "internal error" not in race["run"].stderr


def test_the_swapping_was_still_going_on_when_the_artifacts_were_collected(race):
    at_last_call, at_collection = beat(race, "last.json"), beat(race, "count.json")
    assert at_last_call["swaps"] > 100, at_last_call  # it swapped for the whole tool call before
    elapsed_s = (at_collection["time_ns"] - at_last_call["time_ns"]) / 1e9
    # Past the last tool call, through the model's delayed final answer, up to the collection.
    assert elapsed_s >= LAST_TURN_DELAY_S - 0.1 and at_collection["swaps"] > at_last_call["swaps"], elapsed_s


def test_no_secret_reaches_the_run_record_the_output_or_the_console(race):
    assert files_holding(race["record"], [MARKER.encode()]) == []
    assert not race["out"].exists() or files_holding(race["out"], [MARKER.encode()]) == []
    assert MARKER not in json.dumps(race["run"].events) + race["run"].stderr


def test_each_swapped_artifact_is_its_decoy_or_refused_by_name(race):
    message = race["run"].step_event("swap")["message"]
    for folder, name, _ in FOLDERS:
        delivered = race["out"] / name
        if delivered.exists():
            assert delivered.read_text() == f"decoy-{folder}\n"
        else:
            assert f"artifact '{folder}' refused: lies under a symbolic link" in message, (folder, message)


def test_the_run_left_nothing_behind(race, docker):
    assert_run_left_nothing(docker, race["run"].run_id)
