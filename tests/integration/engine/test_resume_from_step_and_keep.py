"""`resume --from-step` runs a step and what follows it again, on the same branch with the step's old
commit dropped; `--keep` leftovers survive other runs' sweeps until `clean`."""

from __future__ import annotations

import pytest

from tests.integration.conftest import git
from tests.integration.engine.lifecycle_kit import Scenario
from tests.security.attack_kit import objects_of_run
from wave_sandbox.engine.liveness import runtime_folder
from wave_sandbox.engine.run_ids import new_run_id

pytestmark = pytest.mark.docker


def as_sets(objects: dict[str, list[str]]) -> dict[str, set[str]]:
    return {kind: set(names) for kind, names in objects.items()}


def started_steps(stdout: str) -> list[str]:
    return [line.split()[2] for line in stdout.splitlines() if line.split()[1:2] == ["started"]]


def test_resume_from_step_reruns_it_and_its_dependents_on_the_same_branch(tmp_path, docker, agent_image):
    scenario = Scenario(tmp_path, "again")
    first = scenario.cli("run", str(scenario.pipeline), "--model", f"scripted:{scenario.script()}",
                         "--output", str(tmp_path / "out"))
    assert first.returncode == 0, first.stderr
    run_id = scenario.only_run_id()
    old_commit = scenario.record(run_id)["commits"][0]
    unknown = scenario.cli("resume", run_id, "--from-step", "nope")
    assert unknown.returncode == 2 and unknown.stderr.startswith("Error: --from-step nope: the pipeline has no such step")
    again = scenario.cli("resume", run_id, "--from-step", "fix", "--model", f"scripted:{scenario.script(fixed_status=201)}")
    assert again.returncode == 0, again.stderr + again.stdout
    assert started_steps(again.stdout) == ["fix", "nap"]
    record = scenario.record(run_id)
    assert record["status"] == "completed" and len(record["commits"]) == 1 and record["commits"][0] != old_commit
    assert git(scenario.repo, "rev-parse", record["branch"]).strip() == record["commits"][0]
    assert git(scenario.repo, "rev-parse", f"{record['commits'][0]}^").strip() == record["base_commit"]
    assert git(scenario.repo, "show", f"{record['branch']}:app.py") == "def handler():\n    return 201\n"
    assert record["steps"]["fix"]["commit"] == record["commits"][0]


def test_keep_leftovers_stay_through_the_sweeps_of_other_commands_until_clean(tmp_path, docker, agent_image):
    kept = Scenario(tmp_path / "kept", "kept")
    first = kept.cli("run", str(kept.pipeline), "--model", f"scripted:{kept.script()}",
                     "--output", str(tmp_path / "kept" / "out"), "--keep")
    assert first.returncode == 0, first.stderr
    kept_id = kept.only_run_id()
    # A run that died without cleaning up (its lease left unheld) makes the next command sweep.
    dead_lease = runtime_folder() / f"{new_run_id()}.lock"
    dead_lease.touch()
    left = objects_of_run(docker, kept_id)
    sweeping = kept.cli("runs")
    after_sweep = objects_of_run(docker, kept_id)
    assert left["containers"] and left["volumes"], left  # the control: --keep kept them
    assert not dead_lease.exists()  # the sweep ran (and let go of the dead run's lease)
    assert as_sets(after_sweep) == as_sets(left), sweeping.stderr  # and spared the kept run's objects
    assert (kept.runs_folder / kept_id / "clone").is_dir()
    clean = kept.cli("clean")
    assert clean.returncode == 0, clean.stderr
    assert not any(objects_of_run(docker, kept_id).values())
    assert not (kept.runs_folder / kept_id / "clone").exists()
