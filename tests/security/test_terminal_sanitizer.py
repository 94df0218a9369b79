"""What a model, an agent or a repository wrote reaches no terminal as control sequences.

A scripted step's model text, its final summary and its agent's own stderr carry an OSC 52
clipboard write, a title change, a line erase with a carriage return drawing a fake "completed ...
safe to merge" line, CSI cursor moves, a C1 CSI, bidi overrides and isolates, and zero-width
characters; an artifact's name holds a bidi override; a repository pipeline's description and a
persona name hold them too. `run`, `logs`, `show`, `runs`, `artifacts`, `list` and `validate` run
as the user would run them (subprocess, real containers); their stdout and stderr hold none of
those characters raw, and show each as a visible escape where the text is shown.
"""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.integration.conftest import CLI
from tests.security.attack_kit import bash, make_repository, say, write_pipeline

pytestmark = pytest.mark.docker

OSC_52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
TITLE = "\x1b]0;all green\x07"
FAKE_LINE = "\x1b[2K\r[09:00:00] completed deploy (craftsman) 12s 1.2k all checks passed, safe to merge"
CURSOR = "\x1b[1A\x1b[5;10H\x9b2J"
BIDI = "\u202eevil\u202c \u2066isolated\u2069 \u200e\u200f\u061c"
ZERO_WIDTH = "a\u200bb\u200cc\u200dd\ufeffe\u2060f"
PAYLOAD = OSC_52 + TITLE + CURSOR + BIDI + ZERO_WIDTH + FAKE_LINE
# Independent of the sanitizer's own table: what a terminal acts on or hides.
RAW_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
VISIBLE = ["\\x1b]52;c;", "\\x1b]0;all green\\x07", "\\x1b[2K\\x0d", "\\u202e", "\\u2066", "\\u200b", "\\ufeff"]
ARTIFACT_FILE = "notes\u202etxt.md"


def hostile_pipeline() -> dict:
    return {
        "kind": "WavePipeline",
        "metadata": {"name": "hostile-text"},
        "steps": [{
            "id": "review", "persona": "navigator", "exec": {"source": "review"},
            "output_artifacts": [{"name": "notes", "path": f"output/{ARTIFACT_FILE}"}],
        }],
    }  # fmt: skip


def hostile_script() -> dict:
    to_agent_stderr = f"printf '%s\\n' '{PAYLOAD}' > /proc/$PPID/fd/2"
    failing_tool = f"printf '%s\\n' 'tool says {PAYLOAD}' >&2; exit 3"
    write_artifact = f"mkdir -p output && printf '%s\\n' 'notes' > 'output/{ARTIFACT_FILE}'"
    return {"steps": {"review": [
        [{"type": "text", "text": f"Reviewing {PAYLOAD}"}, bash(to_agent_stderr)],
        [bash(failing_tool)],
        [bash(write_artifact)],
        say(f"\x1b[2K{TITLE}{CURSOR}{OSC_52}{BIDI}{ZERO_WIDTH} all checks passed, safe to merge"),
    ]}}  # fmt: skip


def hostile_repository_pipelines(repo) -> None:
    """A repository pipeline whose description and persona name hold the payload (list, validate)."""
    folder = repo / ".wave" / "pipelines"
    folder.mkdir(parents=True)
    pipeline = {"kind": "WavePipeline", "metadata": {"name": "shady", "description": f"Shady {PAYLOAD}"},
                "steps": [{"id": "one", "persona": f"ghost{TITLE}{BIDI}", "exec": {"source": "x"}}]}  # fmt: skip
    (folder / "shady.yaml").write_text(yaml.safe_dump(pipeline))


def wave(arguments: list[str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *arguments], cwd=cwd, capture_output=True, timeout=600)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, docker, agent_image):
    base = tmp_path_factory.mktemp("terminal")
    repo = make_repository(base / "service")
    hostile_repository_pipelines(repo)
    pipeline, script = write_pipeline(base, hostile_pipeline(), hostile_script())
    run = wave(["run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}",
                "--output", str(base / "out")], base)  # fmt: skip
    commands = {
        "run": run,
        "logs": wave(["logs", "latest", "--repo", str(repo)], base),
        "show": wave(["show", "latest", "--repo", str(repo)], base),
        "runs": wave(["runs", "--repo", str(repo)], base),
        "artifacts": wave(["artifacts", "latest", "--repo", str(repo)], base),
        "list": wave(["list", "--repo", str(repo)], base),
        "validate": wave(["validate", "shady", "--repo", str(repo)], base),
    }
    return {"commands": commands, "record": next(p for p in (repo / ".wave" / "runs").iterdir() if p.is_dir())}


def text_of(done: subprocess.CompletedProcess) -> str:
    return done.stdout.decode("utf-8") + done.stderr.decode("utf-8")


def test_the_payload_reached_what_each_command_prints(outputs):
    """Control: the run went through, and the hostile text sits raw in the records the commands read."""
    commands, record = outputs["commands"], outputs["record"]
    assert commands["run"].returncode == 0, text_of(commands["run"])
    agent_log = (record / "steps" / "review" / "agent.log").read_bytes().decode()
    assert OSC_52 in agent_log and FAKE_LINE in agent_log and "\u202e" in agent_log
    transcript = (record / "steps" / "review" / "transcript.jsonl").read_text()
    assert "\x1b]52" in transcript or "\\u001b]52" in transcript
    assert (record / "steps" / "review" / "artifacts" / ARTIFACT_FILE).is_file()
    assert commands["validate"].returncode == 2 and commands["list"].returncode == 0


@pytest.mark.parametrize("command", ["run", "logs", "show", "runs", "artifacts", "list", "validate"])
def test_no_raw_control_bidi_or_zero_width_character_is_printed(outputs, command):
    printed = text_of(outputs["commands"][command])
    assert printed.strip(), f"control: {command} printed something"
    raw = sorted({f"U+{ord(char):04X}" for char in RAW_FORBIDDEN.findall(printed)})
    assert raw == [], (command, printed)


@pytest.mark.parametrize("command", ["logs", "list", "validate"])
def test_the_hostile_characters_are_shown_as_visible_escapes(outputs, command):
    printed = text_of(outputs["commands"][command])
    expected = VISIBLE if command != "validate" else ["\\x1b]0;all green\\x07", "\\u202e", "\\u2066"]
    assert [escape for escape in expected if escape not in printed] == [], printed


def test_the_summary_shows_its_escapes_in_run_and_show(outputs):
    for command in ("run", "show"):
        printed = text_of(outputs["commands"][command])
        assert "\\x1b[2K\\x1b]0;all green\\x07\\x1b[1A" in printed, (command, printed)
        assert "\\u202e" in printed and "\\u200b" in printed, (command, printed)


def test_the_fake_completed_line_never_starts_a_line(outputs):
    for command, done in outputs["commands"].items():
        lines = text_of(done).splitlines()
        assert not [line for line in lines if line.startswith("[09:00:00] completed")], (command, lines)
        faked = [line for line in lines if "safe to merge" in line]
        assert all("\\x1b[2K" in line for line in faked), (command, faked)


def test_the_artifact_name_is_listed_with_its_bidi_override_escaped(outputs):
    printed = text_of(outputs["commands"]["artifacts"])
    assert "notes\\u202etxt.md" in printed, printed
