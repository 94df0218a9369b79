"""Every command's `--json` output has exactly the shape the README's tables document."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import PROJECT, run_cli

README = PROJECT / "README.md"


def documented_shapes() -> dict[str, tuple[set, dict, set]]:
    """command -> (required top-level keys, {key: keys of each object of its list}, optional keys)."""
    section = README.read_text().split("### JSON output of the other commands", 1)[1].split("\n## ", 1)[0]
    shapes = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([a-z]+)[^`]*` \| [^|]+ \| (.+) \|$", line)
        if match:
            shapes[match.group(1)] = parse_keys(match.group(2))
    return shapes


def parse_keys(cell: str) -> tuple[set, dict, set]:
    """`a`, `b` [`c`] (`d`): keys a and b, b a list of objects with key c, d optional; `s` {`k`}: s maps
    ids to objects with key k; a cell that is one [...] describes the objects of a top-level list."""
    optional = set(re.findall(r"`([a-z_]+)`", " ".join(re.findall(r"\(([^)]*)\)", cell))))
    cell = re.sub(r"\([^)]*\)", "", cell)
    nested = {key: set(re.findall(r"`([a-z_]+)`", inner))
              for key, inner in re.findall(r"`([a-z_]+)` [\[{]([^\]}]*)[\]}]", cell)}
    nested.update({"{" + key: nested.pop(key) for key, _ in re.findall(r"`([a-z_]+)` \{([^}]*)\}", cell)})
    top = set(re.findall(r"`([a-z_]+)`", re.sub(r"[\[{][^\]}]*[\]}]", "", cell)))
    if cell.strip().startswith("["):
        return set(), {"[": set(re.findall(r"`([a-z_]+)`", cell))}, set()
    return top, nested, optional - top


def check_shape(data, shape: tuple[set, dict, set]) -> None:
    top, nested, optional = shape
    if "[" in nested:
        assert isinstance(data, list) and data, "a list with something to check"
        for item in data:
            assert set(item) == nested["["], (sorted(item), sorted(nested["["]))
        return
    assert top | {key.lstrip("{") for key in nested} <= set(data) <= top | optional | {k.lstrip("{") for k in nested}, (
        sorted(data), sorted(top), sorted(optional))
    for key, keys in nested.items():
        items = list(data[key.lstrip("{")].values()) if key.startswith("{") else data[key]
        assert items, f"{key} is empty: nothing to check its objects against"
        for item in items:
            assert set(item) == keys, (key, sorted(item), sorted(keys))


@pytest.fixture(scope="module")
def demo_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("json") / "orders-service"
    subprocess.run([str(PROJECT / "examples" / "make_demo_repo.sh"), str(repo)], check=True, capture_output=True)
    folder = repo / ".wave" / "runs" / "20260101-000000-feed"
    (folder / "steps" / "triage").mkdir(parents=True)
    (folder / "steps" / "triage" / "agent.log").write_text("turn 1\nturn 2\n")
    exchange = {"time": "2026-01-01T00:00:01Z", "status": 200,
                "response": {"content": [{"type": "tool_use", "name": "bash", "input": {"command": "ls"}}]}}
    (folder / "steps" / "triage" / "transcript.jsonl").write_text(json.dumps(exchange) + "\n")
    (folder / "steps" / "triage" / "artifacts").mkdir()
    (folder / "steps" / "triage" / "artifacts" / "triage.json").write_text('{"severity": 1}')
    (folder / "run.json").write_text(json.dumps({"run_id": "20260101-000000-feed", "pipeline": "incident-response",
                                                 "status": "completed",
                                                 "steps": {"triage": {"status": "completed",
                                                                      "artifacts": ["output/triage.json"]}}}))
    return repo


def json_of(done: subprocess.CompletedProcess, lines: bool = False):
    assert done.stderr == "" or done.returncode == 0, done.stderr
    if lines:
        return [json.loads(line) for line in done.stdout.splitlines()]
    return json.loads(done.stdout)


def test_the_readme_documents_every_command_tested_here():
    assert set(documented_shapes()) == {"list", "validate", "doctor", "logs", "evidence", "runs", "show", "status",
                                        "artifacts"}


def test_artifacts(demo_repo):
    rows = json_of(run_cli("artifacts", "latest", "--json", "--repo", str(demo_repo), cwd=demo_repo))
    check_shape(rows, documented_shapes()["artifacts"])
    assert rows == [{"step_id": "triage", "name": "triage.json", "size": 15, "delivered": "output/triage.json",
                     "record_path": str(demo_repo / ".wave" / "runs" / "20260101-000000-feed" / "steps" / "triage"
                                        / "artifacts" / "triage.json")}]
    table = run_cli("artifacts", "latest", "--repo", str(demo_repo), cwd=demo_repo).stdout
    assert table.startswith("triage\t15\toutput/triage.json\t")


def test_runs_show_and_status(demo_repo):
    shapes = documented_shapes()
    check_shape(json_of(run_cli("runs", "--json", "--repo", str(demo_repo), cwd=demo_repo)), shapes["runs"])
    check_shape(json_of(run_cli("show", "latest", "--json", "--repo", str(demo_repo), cwd=demo_repo)), shapes["show"])
    check_shape(json_of(run_cli("status", "latest", "--json", "--repo", str(demo_repo), cwd=demo_repo)),
                shapes["status"])
    assert json_of(run_cli("runs", "--json", "--status", "failed", "--repo", str(demo_repo), cwd=demo_repo)) == []


def test_list(demo_repo):
    check_shape(json_of(run_cli("list", "--json", "--repo", str(demo_repo), cwd=demo_repo)), documented_shapes()["list"])


def test_validate_valid_and_not(demo_repo, tmp_path):
    valid = run_cli("validate", "incident-response", "--json", "--repo", str(demo_repo), cwd=demo_repo)
    assert valid.returncode == 0
    check_shape(json_of(valid), documented_shapes()["validate"])
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: WavePipeline\nmetadata: {name: x}\nsteps: []\nbogus: 1\n")
    refused = run_cli("validate", str(broken), "--json", "--repo", str(demo_repo), cwd=demo_repo)
    data = json_of(refused)
    assert refused.returncode == 2 and data["valid"] is False and data["problems"] and refused.stderr == ""
    check_shape(data, documented_shapes()["validate"])


@pytest.mark.docker
def test_doctor(demo_repo, docker):
    check_shape(json_of(run_cli("doctor", "--json", "--repo", str(demo_repo), cwd=demo_repo)),
                documented_shapes()["doctor"])


def test_logs(demo_repo):
    entries = json_of(run_cli("logs", "latest", "--json", "--repo", str(demo_repo), cwd=demo_repo), lines=True)
    assert [entry["kind"] for entry in entries] == ["agent_log", "agent_log", "exchange"]
    top, _, optional = documented_shapes()["logs"]
    for entry in entries:
        assert top <= set(entry) <= top | optional
    assert entries[-1]["parts"] == ['bash({"command": "ls"})']
    tail = json_of(run_cli("logs", "latest", "--json", "--tail", "1", "--repo", str(demo_repo), cwd=demo_repo), True)
    assert [entry["kind"] for entry in tail] == ["exchange"]


def test_evidence(demo_repo):
    done = run_cli("evidence", "--json", "--repo", str(demo_repo), "--logs", str(demo_repo / "logs"), cwd=demo_repo)
    check_shape(json_of(done), documented_shapes()["evidence"])


def test_runs_is_a_table_with_a_header_and_filters(demo_repo):
    table = run_cli("runs", "--repo", str(demo_repo), cwd=demo_repo).stdout.splitlines()
    assert table[0].split() == ["RUN", "PIPELINE", "STATUS", "STARTED", "DURATION", "MODEL", "COST", "BRANCH"]
    assert table[1].startswith("20260101-000000-feed  incident-response  completed")
    assert run_cli("runs", "--pipeline", "other", "--repo", str(demo_repo), cwd=demo_repo).stdout == "No runs match.\n"
    assert len(run_cli("runs", "--limit", "1", "--repo", str(demo_repo), cwd=demo_repo).stdout.splitlines()) == 2
