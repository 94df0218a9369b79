"""What the soak checks once its runs are over: leftovers, run states, artifacts, branches.

Each check counts what it looked at and names every problem it finds; only the soak's own runs (their
ids) are judged, since other runs may share the daemon.
"""

from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from soak_pipelines import ARTIFACTS, READWRITE_STEPS, branch_file, expected_artifact, number_of

LABEL = "wave-sandbox.run"


@dataclass
class Findings:
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str, amount: int = 1) -> None:
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + amount

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)


@dataclass(frozen=True)
class RecordedRun:
    repo: Path
    run_id: str
    data: dict

    @property
    def folder(self) -> Path:
        return self.repo / ".wave" / "runs" / self.run_id

    @property
    def number(self) -> int | None:
        return number_of(str(self.data.get("input", "")))

    @property
    def shape(self) -> str:
        return str(self.data.get("pipeline"))

    def completed_steps(self) -> list[str]:
        return [step for step, entry in self.data.get("steps", {}).items() if entry.get("status") == "completed"]


def recorded_runs(repos: list[Path]) -> list[RecordedRun]:
    runs = []
    for repo in repos:
        root = repo / ".wave" / "runs"
        for folder in sorted(root.iterdir()) if root.is_dir() else []:
            if (folder / "run.json").is_file():
                runs.append(RecordedRun(repo, folder.name, json.loads((folder / "run.json").read_text())))
    return runs


# ----- leftovers --------------------------------------------------------------------------------
def check_leftovers(findings: Findings, run_ids: set[str], docker_client) -> None:
    """No labelled container, network, volume or firewall rule of these runs, no gateway socket folder; no
    clone in their records."""
    from wave_sandbox.sandbox.firewall import firewall_run_ids
    from wave_sandbox.sandbox.gateway_socket import FOLDER_PREFIX, temporary_base

    listed = {
        "containers": [(c.attrs.get("Labels") or {}, c.attrs.get("Names", [c.id])[0])
                       for c in docker_client.containers.list(all=True, sparse=True, filters={"label": LABEL})],
        "networks": [(n.attrs.get("Labels") or {}, n.name) for n in docker_client.networks.list(filters={"label": LABEL})],
        "volumes": [(v.attrs.get("Labels") or {}, v.name) for v in docker_client.volumes.list(filters={"label": LABEL})],
    }
    for kind, objects in listed.items():
        ours = [name for labels, name in objects if labels.get(LABEL) in run_ids]
        findings.count(f"leftover {kind}", len(ours))
        for name in ours:
            findings.problem(f"{kind[:-1]} {name} left behind")
    rules = firewall_run_ids() & run_ids
    findings.count("leftover firewall rules", len(rules))
    for run_id in sorted(rules):
        findings.problem(f"firewall rules of run {run_id} left behind")
    sockets = [folder for run_id in sorted(run_ids) for folder in temporary_base().glob(f"{FOLDER_PREFIX}{run_id}-*")]
    findings.count("leftover gateway socket folders", len(sockets))
    for folder in sockets:
        findings.problem(f"gateway socket folder {folder} left behind")


def check_clones(findings: Findings, runs: list[RecordedRun]) -> None:
    clones = [run for run in runs if (run.folder / "clone").exists() or (run.folder / "clone.removing").exists()]
    findings.count("leftover clones", len(clones))
    for run in clones:
        findings.problem(f"run {run.run_id} still has a clone in its record folder")


# ----- what the CLI says --------------------------------------------------------------------------
def shown_states(cli: Path, repo: Path) -> dict[str, str]:
    """run id -> the state `wave-sandbox runs` shows (its third column)."""
    listed = subprocess.run([str(cli), "runs", "--repo", str(repo)], capture_output=True, text=True, check=False)
    states = {}
    for line in listed.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0][:8].isdigit():
            states[parts[0]] = parts[2]
    return states


def check_no_record_says_running(findings: Findings, cli: Path, repos: list[Path], runs: list[RecordedRun]) -> None:
    states = {}
    for repo in repos:
        states.update(shown_states(cli, repo))
    findings.count("records saying running", 0)
    for run in runs:
        state = states.get(run.run_id)
        findings.count("records checked")
        if state is None:
            findings.problem(f"`runs` does not list run {run.run_id}")
        elif state == "running":
            findings.count("records saying running")
            findings.problem(f"run {run.run_id} is shown as running, but no soak run is alive")


# ----- artifacts and branches -----------------------------------------------------------------------
def check_completed_artifacts(findings: Findings, runs: list[RecordedRun]) -> None:
    """Every step recorded completed has its artifact in the record, readable and byte-exact."""
    for run in runs:
        expected_files = ARTIFACTS.get(run.shape, {})
        for step_id in run.completed_steps():
            findings.count("completed steps checked")
            file_name = expected_files.get(step_id)
            artifact = run.folder / "steps" / step_id / "artifacts" / str(file_name)
            try:
                content = artifact.read_bytes()
            except OSError as error:
                findings.problem(f"run {run.run_id} step {step_id}: artifact unreadable ({error.strerror})")
                continue
            if content != expected_artifact(run.number, step_id, file_name):
                findings.problem(f"run {run.run_id} step {step_id}: artifact {file_name} is not what the step wrote")


def check_branches(findings: Findings, repos: list[Path], runs: list[RecordedRun]) -> None:
    """Each run branch matches its record: base commit, the files of the read-write steps recorded
    completed (no more, no fewer, as written), the recorded last commit."""
    by_id = {run.run_id: run for run in runs}
    for repo in repos:
        for branch in _git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/wave/").split():
            findings.count("branches checked")
            run = by_id.get(branch.rsplit("/", 1)[-1])
            problem = _branch_problem(repo, branch, run) if run else "has no run record"
            if problem:
                findings.problem(f"branch {branch}: {problem}")


def _branch_problem(repo: Path, branch: str, run: RecordedRun) -> str | None:
    tip = _git(repo, "rev-parse", branch).strip()
    base = run.data.get("base_commit")
    if not base:
        return "its record names no base commit"
    if _git(repo, "merge-base", "--is-ancestor", base, tip, check=False) is None:
        return f"does not grow from the recorded base {base[:12]}"
    done = [step for step in READWRITE_STEPS if step in run.completed_steps()]
    wanted = dict(branch_file(run.number, step) for step in done)
    changed = set(_git(repo, "diff", "--name-only", "--no-renames", base, tip).split())
    if changed != set(wanted):
        return f"changes {sorted(changed)}, but the record's completed read-write steps {done} made {sorted(wanted)}"
    for path, content in wanted.items():
        if _git_bytes(repo, "show", f"{tip}:{path}") != content:
            return f"{path} is not what the step wrote"
    commits = run.data.get("commits") or []
    if commits and commits[-1] != tip:
        return f"points at {tip[:12]}, but the record's last commit is {commits[-1][:12]}"
    return None


def _git(repo: Path, *arguments: str, check: bool = True) -> str | None:
    output = _git_bytes(repo, *arguments, check=check)
    return None if output is None else output.decode()


def _git_bytes(repo: Path, *arguments: str, check: bool = True) -> bytes | None:
    completed = subprocess.run(["git", "-C", str(repo), *arguments], capture_output=True, check=False)
    if completed.returncode != 0:
        if check:
            raise RuntimeError(f"git {' '.join(arguments)} failed in {repo}: {completed.stderr.decode().strip()}")
        return None
    return completed.stdout
