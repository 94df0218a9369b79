"""The read-write clone's disk ceiling holds while the step runs (the clone watchdog).

Each attack is a real `wave-sandbox run` whose read-write step, under a persona with a 50 MiB clone
ceiling, tries to grow the clone on the host's disk: `dd` from /dev/zero as fast as it can, a
sparse file of 4 GiB, and 60,000 empty files. A sampler on the host measures the clone every 10 ms
while the run goes on, to show that the payload reached the clone (it grew past its ceiling) and
that it was stopped within moments, never far past the ceiling. A read-write step under the
ceiling, in a run with the same limit, is untouched and commits.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.integration.conftest import assert_run_left_nothing, git
from tests.security.attack_kit import LiveRun, bash, make_repository, say, write_pipeline

pytestmark = pytest.mark.docker

MIB = 1024 * 1024
CEILING_MB = 50
OVERSHOOT_BOUND_MB = 512
"""What the dd attack may write past the ceiling before it is frozen (measured: see SECURITY.md)."""
STOP_WITHIN_S = 5.0
PERSONAS = {"filler": {"limits": {"clone_mb": CEILING_MB}}}
READ_ONLY, READ_WRITE = "readonly", "readwrite"

DD_AS_FAST_AS_IT_CAN = "dd if=/dev/zero of=/src/big bs=1M; i=0; while dd if=/dev/zero of=/src/more$i bs=1M count=64; do i=$((i+1)); done"
SPARSE = "truncate -s 4G /src/sparse && sleep 60"
MANY_EMPTY_FILES = (
    "mkdir /src/many && cd /src/many && "
    "python3 -c \"[open(str(n), 'w').close() for n in range(60000)]\"; sleep 60"
)
UNDER_THE_CEILING = (  # 24 MiB in files the host commits (each under its 10 MiB per-file cap)
    "for n in 1 2 3 4; do head -c 6M /dev/urandom > /src/data$n.bin; done && sed -i 's/return 500/return 200/' /src/app.py"
)


def step(step_id: str, mode: str, outputs: dict[str, str], **extra) -> dict:
    return {"id": step_id, "persona": "filler", "exec": {"source": step_id},
            "workspace": {"mount": [{"source": "./", "target": "/src", "mode": mode}]},
            "output_artifacts": [{"name": name, "path": path} for name, path in outputs.items()]} | extra  # fmt: skip


def attack_pipeline(command: str) -> tuple[dict, dict]:
    """survey (read-only, an artifact) -> fill (read-write, the attack) -> after (never runs)."""
    pipeline = {"kind": "WavePipeline", "metadata": {"name": "clone-fill"}, "steps": [
        step("survey", READ_ONLY, {"survey": "output/survey.txt"}),
        step("fill", READ_WRITE, {"never": "output/never.txt"}, dependencies=["survey"]),
        step("after", READ_ONLY, {"after": "output/after.txt"}, dependencies=["fill"]),
    ]}  # fmt: skip
    script = {"steps": {
        "survey": [[bash("ls /src > output/survey.txt")], say("Surveyed")],
        "fill": [[bash(command, timeout_s=110)], [bash("echo done > output/never.txt")], say("Filled")],
        "after": [[bash("echo after > output/after.txt")], say("After")],
    }}  # fmt: skip
    return pipeline, script


class CloneSampler:
    """Measures the run's clone from the host every 10 ms: its largest size, and when it passed a size."""

    def __init__(self, repo: Path, ceiling_bytes: int):
        self.runs = repo / ".wave" / "runs"
        self.ceiling_bytes = ceiling_bytes
        self.largest = {"allocated": 0, "apparent": 0}
        self.first_over_at: float | None = None
        self.samples = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.01):
            for clone in self.runs.glob("*/clone"):
                allocated, apparent = tree_sizes(clone)
                self.samples += 1
                self.largest["allocated"] = max(self.largest["allocated"], allocated)
                self.largest["apparent"] = max(self.largest["apparent"], apparent)
                if self.first_over_at is None and max(allocated, apparent) > self.ceiling_bytes:
                    self.first_over_at = time.time()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def tree_sizes(root: Path) -> tuple[int, int]:
    """Allocated bytes and apparent length of every file under `root`, links not followed."""
    allocated = apparent = 0
    for folder, _, names in os.walk(root):
        for name in names:
            try:
                found = os.lstat(os.path.join(folder, name))
            except FileNotFoundError:
                continue
            allocated += found.st_blocks * 512
            apparent += found.st_size if stat.S_ISREG(found.st_mode) else 0
    return allocated, apparent


def run_attack(base: Path, command: str) -> dict:
    repo = make_repository(base / "service", personas=PERSONAS)
    pipeline, script = attack_pipeline(command)
    pipeline_file, script_file = write_pipeline(base, pipeline, script)
    sampler = CloneSampler(repo, CEILING_MB * MIB)
    run = LiveRun([str(pipeline_file), "--repo", str(repo), "--model", f"scripted:{script_file}",
                   "--output", str(base / "out")], cwd=base)  # fmt: skip
    try:
        exit_code = run.finish(timeout_s=240)
    finally:
        sampler.stop()
    return {"run": run, "exit_code": exit_code, "sampler": sampler, "repo": repo, "out": base / "out"}


def event_time(event: dict) -> float:
    return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()


def step_record(repo: Path, run_id: str, step_id: str) -> dict:
    return json.loads((repo / ".wave" / "runs" / run_id / "run.json").read_text())["steps"][step_id]


@pytest.fixture(scope="module")
def dd_attack(tmp_path_factory, docker, agent_image):
    return run_attack(tmp_path_factory.mktemp("dd"), DD_AS_FAST_AS_IT_CAN)


@pytest.fixture(scope="module")
def sparse_attack(tmp_path_factory, docker, agent_image):
    return run_attack(tmp_path_factory.mktemp("sparse"), SPARSE)


@pytest.fixture(scope="module")
def many_files_attack(tmp_path_factory, docker, agent_image):
    return run_attack(tmp_path_factory.mktemp("many"), MANY_EMPTY_FILES)


def assert_stopped_at_the_ceiling(attack: dict) -> dict:
    run = attack["run"]
    assert attack["exit_code"] == 1, run.stderr
    assert "Traceback" not in run.stderr
    failed = run.step_event("fill")
    assert failed["state"] == "failed"
    message = failed["message"]
    assert message.startswith(f"stopped: the read-write clone grew past its ceiling of {CEILING_MB} MiB"), message
    assert "\n" not in message
    assert run.step_event("after")["state"] == "skipped"
    return failed


def test_dd_as_fast_as_it_can_is_stopped_within_moments_of_the_ceiling(dd_attack):
    failed = assert_stopped_at_the_ceiling(dd_attack)
    sampler = dd_attack["sampler"]
    assert sampler.first_over_at is not None, "the attack never took the clone past its ceiling"
    assert sampler.largest["allocated"] > CEILING_MB * MIB  # the payload reached the clone on the host's disk
    assert event_time(failed) - sampler.first_over_at < STOP_WITHIN_S


def test_dd_never_took_the_clone_far_past_its_ceiling(dd_attack):
    assert_stopped_at_the_ceiling(dd_attack)
    largest = dd_attack["sampler"].largest["allocated"]
    assert largest <= (CEILING_MB + OVERSHOOT_BOUND_MB) * MIB, f"{largest / MIB:.0f} MiB"
    assert dd_attack["sampler"].samples > 100


def test_the_watchdog_froze_the_step_before_stopping_it(dd_attack):
    watch = step_record(dd_attack["repo"], dd_attack["run"].run_id, "fill")["clone_watch"]
    assert watch["frozen_walks"] >= 1 and watch["largest_mb"] > CEILING_MB, watch


def test_earlier_artifacts_are_kept_and_nothing_is_left(dd_attack, docker):
    run = dd_attack["run"]
    assert run.step_event("survey")["state"] == "completed"
    assert "app.py" in (dd_attack["out"] / "survey.txt").read_text()
    assert not (dd_attack["out"] / "never.txt").exists()
    assert_run_left_nothing(docker, run.run_id)
    assert not (dd_attack["repo"] / ".wave" / "runs" / run.run_id / "clone").exists()
    assert git(dd_attack["repo"], "for-each-ref", "--format=%(refname)", "refs/heads/wave/").split() == []


def test_a_sparse_file_counts_at_its_length(sparse_attack, docker):
    failed = assert_stopped_at_the_ceiling(sparse_attack)
    sampler = sparse_attack["sampler"]
    assert sampler.largest["apparent"] >= 4096 * MIB  # the payload: a 4 GiB file in the clone...
    assert sampler.largest["allocated"] < CEILING_MB * MIB  # ...that holds no disk
    assert event_time(failed) - sampler.first_over_at < STOP_WITHIN_S
    assert_run_left_nothing(docker, sparse_attack["run"].run_id)


def test_many_empty_files_count_an_inode_each(many_files_attack, docker):
    assert_stopped_at_the_ceiling(many_files_attack)
    watch = step_record(many_files_attack["repo"], many_files_attack["run"].run_id, "fill")["clone_watch"]
    assert watch["largest_mb"] > CEILING_MB, watch
    assert_run_left_nothing(docker, many_files_attack["run"].run_id)


def test_a_read_write_step_under_the_ceiling_commits(tmp_path, docker, agent_image):
    repo = make_repository(tmp_path / "service", personas=PERSONAS)
    pipeline = {"kind": "WavePipeline", "metadata": {"name": "clone-under"},
                "steps": [step("fix", READ_WRITE, {"fix": "output/fix.md"})]}  # fmt: skip
    script = {"steps": {"fix": [[bash(UNDER_THE_CEILING)], [bash("echo fixed > output/fix.md")], say("Fixed")]}}
    pipeline_file, script_file = write_pipeline(tmp_path, pipeline, script)
    run = LiveRun([str(pipeline_file), "--repo", str(repo), "--model", f"scripted:{script_file}",
                   "--output", str(tmp_path / "out")], cwd=tmp_path)  # fmt: skip
    assert run.finish(timeout_s=240) == 0, run.stderr
    final = run.events[-1]
    assert final["state"] == "run_completed" and len(final["commits"]) == 1, final
    changed = git(repo, "show", "--name-only", "--format=", final["commits"][0]).split()
    assert sorted(changed) == ["app.py", "data1.bin", "data2.bin", "data3.bin", "data4.bin"]
    watch = step_record(repo, run.run_id, "fix")["clone_watch"]
    assert 20 <= watch["largest_mb"] < CEILING_MB and watch["stopped_after_ms"] is None, watch
    assert_run_left_nothing(docker, run.run_id)
