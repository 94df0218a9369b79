"""`validate`, `list` and `init`: output, exit codes through Typer's runner, and one real process."""

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wave_sandbox.cli.app import app, register_commands
from wave_sandbox.errors import ConfigurationError, PipelineNotFoundError
from wave_sandbox.resources import builtin_pipelines_dir

register_commands()
runner = CliRunner()
ENTRY_POINT = Path(sys.executable).with_name("wave-sandbox")

BROKEN = """\
kind: WavePipeline
metadata:
  name: broken
steps:
  - id: a
    persona: navigator
    workspace:
      mnt: []
    exec:
      source: "{{ input }}"
  - id: b
    persona: auditor
    dependencies: [c]
    adapter: codex
    exec:
      source: "b"
  - id: c
    persona: auditor
    dependencies: [b]
    memory:
      inject_artifacts:
        - {step: a, artifact: missing, as: x}
    exec:
      source: "c"
"""
BROKEN_PROBLEMS = [
    "bad.yaml:8: steps[0] (a): workspace: unknown field 'mnt' (did you mean 'mount'?)",
    "bad.yaml:13: steps[1] (b): dependencies: cycle: b -> c -> b (each step waits for the one before it)",
    "bad.yaml:14: steps[1] (b): adapter 'codex' is not supported by wave-sandbox (steps run wave-sandbox's own agent; use claude or leave it out)",
    "bad.yaml:22: steps[2] (c): memory.inject_artifacts[0]: step 'a' is not upstream of 'c': add it to dependencies, directly or through another step",
    "bad.yaml:22: steps[2] (c): memory.inject_artifacts[0]: step 'a' declares no artifact 'missing' (it declares: none)",
]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_validate_a_built_in_exits_0(repo):
    result = runner.invoke(app, ["validate", "incident-response"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: incident-response (5 steps) from ")
    assert result.stderr == ""


def test_validate_reports_every_problem_on_its_own_line_and_exits_2(repo):
    (repo / "bad.yaml").write_text(BROKEN)
    result = runner.invoke(app, ["validate", "bad.yaml", "--repo", str(repo)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == BROKEN_PROBLEMS
    assert result.stdout == ""


def test_validate_a_repository_pipeline_by_name(repo):
    (repo / ".wave" / "pipelines").mkdir(parents=True)
    (repo / ".wave" / "pipelines" / "mine.yaml").write_text(BROKEN.replace("name: broken", "name: mine"))
    result = runner.invoke(app, ["validate", "mine", "--repo", str(repo)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith(".wave/pipelines/mine.yaml:8: steps[0] (a): workspace: unknown field 'mnt'")


def test_validate_unknown_pipeline_raises_a_configuration_error(repo):
    result = runner.invoke(app, ["validate", "nope"])
    assert isinstance(result.exception, PipelineNotFoundError)
    assert result.exception.exit_code == 2


def test_validate_with_a_missing_repository_folder(repo):
    result = runner.invoke(app, ["validate", "incident-response", "--repo", str(repo / "nowhere")])
    assert isinstance(result.exception, ConfigurationError) and result.exception.exit_code == 2


def test_list_shows_pipelines_with_origin_and_personas_with_descriptions(repo):
    (repo / ".wave" / "pipelines").mkdir(parents=True)
    (repo / ".wave" / "pipelines" / "incident-triage.yaml").write_text("metadata: {description: Our triage}\n")
    (repo / ".wave" / "personas").mkdir(parents=True)
    (repo / ".wave" / "personas" / "detective.md").write_text("You find causes.\n")
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Pipelines")
    assert any(line.split()[:1] == ["incident-response"] and "Rapid incident investigation" in line and "[built-in]" in line for line in lines)
    assert any(line.split()[:1] == ["incident-triage"] and "Our triage" in line
               and "[.wave/pipelines/incident-triage.yaml, hides the built-in]" in line for line in lines)
    persona_lines = lines[lines.index("Personas:") + 1:]
    assert [line.split()[0] for line in persona_lines] == ["auditor", "craftsman", "detective", "navigator", "philosopher", "summarizer"]
    assert "[repository]" in persona_lines[2] and "[built-in]" in persona_lines[0]


def test_list_shows_a_broken_persona_instead_of_failing(repo):
    (repo / ".wave" / "personas").mkdir(parents=True)
    (repo / ".wave" / "personas" / "auditor.yaml").write_text("colour: blue\n")
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    assert any(line.split()[0] == "auditor" and "(broken: .wave/personas/auditor.yaml:1: unknown field 'colour')" in line
               for line in result.stdout.splitlines() if line.startswith("  "))


def test_init_scaffolds_wave_folder_and_ignores_run_records(repo):
    result = runner.invoke(app, ["init", "--repo", str(repo)])
    assert result.exit_code == 0, result.output
    scaffolded = repo / ".wave" / "pipelines" / "incident-response.yaml"
    assert scaffolded.read_text() == (builtin_pipelines_dir() / "incident-response.yaml").read_text()
    assert "NAME.md" in (repo / ".wave" / "personas" / "README.md").read_text()
    assert (repo / ".gitignore").read_text() == ".wave/runs/\n"
    assert "created  .wave/pipelines/incident-response.yaml" in result.stdout
    validated = runner.invoke(app, ["validate", "incident-response", "--repo", str(repo)])
    assert validated.stdout.startswith("OK: incident-response (5 steps) from .wave/pipelines/incident-response.yaml")


def test_init_twice_changes_nothing_and_never_clobbers(repo):
    (repo / ".wave" / "pipelines").mkdir(parents=True)
    (repo / ".wave" / "pipelines" / "incident-response.yaml").write_text("# mine\n")
    (repo / ".gitignore").write_text("node_modules/")
    runner.invoke(app, ["init"])
    second = runner.invoke(app, ["init"])
    assert second.exit_code == 0
    assert (repo / ".wave" / "pipelines" / "incident-response.yaml").read_text() == "# mine\n"
    assert (repo / ".gitignore").read_text() == "node_modules/\n.wave/runs/\n"
    assert "kept     .wave/pipelines/incident-response.yaml (already there)" in second.stdout
    assert "kept     .gitignore (already ignores .wave/runs/)" in second.stdout


def test_init_recognises_an_existing_equivalent_ignore_entry(repo):
    (repo / ".gitignore").write_text("/.wave/runs\n")
    runner.invoke(app, ["init"])
    assert (repo / ".gitignore").read_text() == "/.wave/runs\n"


def test_the_real_command_exits_2_with_problems_and_no_traceback(repo):
    (repo / "bad.yaml").write_text(BROKEN)
    broken = subprocess.run([str(ENTRY_POINT), "validate", "bad.yaml"], capture_output=True, text=True, timeout=60)
    assert broken.returncode == 2
    assert broken.stderr.splitlines() == BROKEN_PROBLEMS  # also: nothing else, so no traceback
