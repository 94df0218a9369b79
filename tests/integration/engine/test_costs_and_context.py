"""Real models, real bills, end to end: prompt-cache accounting, the context window, --max-cost.

Real daemon, real containers, the real anthropic SDK in the agent, the scripted model over real HTTP
(it reports cache writes and reads as the provider would, and answers an overlong prompt with the
provider's own 400)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import assert_run_left_nothing, git, run_cli
from tests.integration.scripted_runs import say, write_pipeline
from wave_sandbox.gateway.prices import PriceTable
from wave_sandbox.gateway.prompt_cache import PromptCache

pytestmark = pytest.mark.docker

PROJECT = Path(__file__).resolve().parents[3]
DEMO_SCRIPT = PROJECT / "examples" / "incident-response.script.yaml"
CONTEXT_WINDOW = 9000
BIG_FILES = 6
BIG_FILE_CHARS = 8000  # about 2000 tokens each: six of them overflow the window

READING_PIPELINE = """\
kind: WavePipeline
metadata:
  name: long-reads
steps:
  - id: reader
    persona: navigator
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readonly
    exec:
      source: "Read every file in /src/big and say what they hold"
  - id: windowed
    persona: windowed
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readonly
    exec:
      source: "Read every file in /src/big and say what they hold"
"""


def read(path: str) -> dict:
    return {"type": "tool_use", "name": "read_file", "input": {"path": path}}


def reading_turns() -> list:
    return [[read(f"/src/big/part{index}.txt")] for index in range(BIG_FILES)] + [say("All parts read")]


def transcript(record: Path, step_id: str) -> list[dict]:
    path = record / "steps" / step_id / "transcript.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def streamed_text(events: list[dict]) -> str:
    """The text a streamed answer carried, as the transcript keeps its events."""
    deltas = (event["data"].get("delta", {}) for event in events if event["event"] == "content_block_delta")
    return "".join(delta.get("text", "") for delta in deltas)


def reading_repository(folder: Path) -> Path:
    """A repository of big files, and a `windowed` persona that knows the small window (and a navigator
    override with a small max_tokens, which does not, so it learns it from the provider's 400)."""
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    (folder / "big").mkdir()
    for index in range(BIG_FILES):
        line = f"part {index}: " + "lorem ipsum dolor sit amet " * 3 + "\n"
        (folder / "big" / f"part{index}.txt").write_text((line * (BIG_FILE_CHARS // len(line) + 1))[:BIG_FILE_CHARS])
    personas = folder / ".wave" / "personas"
    personas.mkdir(parents=True)
    (personas / "navigator.yaml").write_text("max_tokens: 1024\n")
    (personas / "windowed.md").write_text("You read files and say what they hold.\n")
    (personas / "windowed.yaml").write_text(
        f"tools: [read_file, list_files]\nmax_tokens: 1024\ncontext_window: {CONTEXT_WINDOW}\n"
    )
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "big files")
    return folder


@pytest.fixture(scope="module")
def long_run(tmp_path_factory, agent_image, docker):
    base = tmp_path_factory.mktemp("context")
    repo = reading_repository(base / "service")
    script = {"context_window": CONTEXT_WINDOW, "steps": {"reader": reading_turns(), "windowed": reading_turns()}}
    pipeline, script_file = write_pipeline(base, READING_PIPELINE, script)
    completed = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                        "--output", str(base / "out"), "--json", cwd=base)  # fmt: skip
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    record = repo / ".wave" / "runs" / events[0]["run_id"]
    return {"completed": completed, "events": events, "record": record}


def test_a_step_driven_past_the_window_completes_after_the_providers_error(long_run):
    completed, record = long_run["completed"], long_run["record"]
    assert completed.returncode == 0, completed.stdout + completed.stderr
    exchanges = transcript(record, "reader")
    refused = [e for e in exchanges if e["status"] == 400]
    assert refused, "the step never went past the window: the test would prove nothing"
    assert refused[0]["response"]["error"]["message"].startswith("prompt is too long: ")
    assert f"> {CONTEXT_WINDOW} maximum" in refused[0]["response"]["error"]["message"]
    log = (record / "steps" / "reader" / "agent.log").read_text()
    assert "the model refused the prompt as too long" in log
    assert "context: cleared" in log
    last = exchanges[-1]
    assert last["status"] == 200 and streamed_text(last["response"]) == "All parts read"
    stub = "[result of read_file /src/big/part0.txt cleared to save context; call again if needed]"
    assert stub in json.dumps(last["request"])


def test_a_persona_that_knows_the_window_clears_before_the_provider_refuses(long_run):
    record = long_run["record"]
    exchanges = transcript(record, "windowed")
    assert [e["status"] for e in exchanges] == [200] * (BIG_FILES + 1)
    log = (record / "steps" / "windowed" / "agent.log").read_text()
    assert "context window 9000 tokens" in log and "context: cleared" in log
    assert "refused the prompt" not in log
    assert max(e["usage"]["input_tokens"] for e in exchanges) <= CONTEXT_WINDOW  # cached tokens included


def test_the_long_run_leaves_no_docker_objects(long_run, docker):
    assert_run_left_nothing(docker, long_run["record"].name)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, agent_image, docker):
    base = tmp_path_factory.mktemp("demo")
    repo = base / "orders-service"
    import subprocess

    subprocess.run([str(PROJECT / "examples" / "make_demo_repo.sh"), str(repo)], check=True, capture_output=True)
    completed = run_cli("run", "incident-response", "500 errors spiking on /api/orders endpoint since 14:30 UTC",
                        "--repo", str(repo), "--model", f"scripted:{DEMO_SCRIPT}", "--output", str(base / "out"),
                        "--json", cwd=base, timeout=600)  # fmt: skip
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    record = repo / ".wave" / "runs" / events[0]["run_id"]
    return {"completed": completed, "events": events, "record": record, "repo": repo, "base": base}


def test_cache_tokens_are_counted_end_to_end_and_can_be_recomputed_from_the_transcripts(demo_run):
    completed, record = demo_run["completed"], demo_run["record"]
    assert completed.returncode == 0, completed.stdout + completed.stderr
    run = json.loads((record / "run.json").read_text())
    prices, cache, total_cost = PriceTable(), PromptCache(), 0.0
    exchanges = sorted((e for step in run["steps"] for e in transcript(record, step)), key=lambda e: e["time"])
    for exchange in exchanges:
        counts = cache.account(exchange["request"])  # the exact request body, played against the rules again
        usage = exchange["usage"]
        assert (usage["cache_creation_input_tokens"], usage["cache_read_input_tokens"]) == (
            counts.cache_creation_input_tokens, counts.cache_read_input_tokens)
        assert usage["input_tokens"] == counts.total
        total_cost += usage["cost_usd"]
    triage = transcript(record, "triage")
    assert triage[0]["usage"]["cache_read_input_tokens"] == 0 < triage[0]["usage"]["cache_creation_input_tokens"]
    assert all(e["usage"]["cache_read_input_tokens"] > 0 for e in triage[1:])  # each turn reads the last one's prompt
    step = run["steps"]["triage"]
    assert step["cache_read_tokens"] == sum(e["usage"]["cache_read_input_tokens"] for e in triage)
    assert step["cost_usd"] == pytest.approx(sum(e["usage"]["cost_usd"] for e in triage), abs=1e-6)
    assert run["cost_usd"] == pytest.approx(total_cost, abs=1e-5) and run["cost_usd"] > 0
    assert "platform.claude.com" in run["prices"]
    ended = demo_run["events"][-1]
    assert ended["state"] == "run_completed" and ended["cost_usd"] == run["cost_usd"]
    assert [e["cost_usd"] for e in demo_run["events"] if e["state"] == "completed"][0] == step["cost_usd"]
    assert completed.stderr.rstrip().splitlines()[-1].startswith("cost: $")


def test_show_and_runs_print_the_costs(demo_run):
    repo, base = demo_run["repo"], demo_run["base"]
    shown = run_cli("show", "latest", "--repo", str(repo), cwd=base)
    assert shown.returncode == 0 and "Cost: $" in shown.stdout
    assert "$0.0" in shown.stdout.splitlines()[3]  # the first step's line has its cost
    listed = run_cli("runs", "--repo", str(repo), cwd=base)
    assert "$" in listed.stdout


def test_max_cost_stops_the_run_with_one_clear_line_and_leaves_nothing(demo_run, docker):
    repo, base = demo_run["repo"], demo_run["base"]
    completed = run_cli("run", "incident-response", "500 errors", "--repo", str(repo), "--model",
                        f"scripted:{DEMO_SCRIPT}", "--output", str(base / "capped"), "--max-cost", "0.05",
                        cwd=base, timeout=600)  # fmt: skip
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    stopped = [line for line in completed.stdout.splitlines() if "would go over its cost budget of $0.0500" in line]
    assert stopped, completed.stdout + completed.stderr
    assert any(line.startswith("step triage failed: ") or "step triage failed: " in line for line in stopped)
    capped = max((repo / ".wave" / "runs").iterdir(), key=lambda path: path.name)
    refused = transcript(capped, "triage")
    assert refused[0]["status"] == 403 and "would go over its cost budget" in json.dumps(refused[0]["response"])
    run = json.loads((capped / "run.json").read_text())
    assert run["options"]["max_cost_usd"] == 0.05 and run["cost_usd"] <= 0.05
    assert not (base / "capped" / "triage.json").exists()
    assert_run_left_nothing(docker, capped.name)


def test_max_cost_stops_a_run_part_way_like_the_token_budget(demo_run, docker):
    repo, base = demo_run["repo"], demo_run["base"]
    completed = run_cli("run", "incident-response", "500 errors", "--repo", str(repo), "--model",
                        f"scripted:{DEMO_SCRIPT}", "--output", str(base / "part-way"), "--max-cost", "0.30", "--json",
                        cwd=base, timeout=600)  # fmt: skip
    assert completed.returncode == 1, completed.stdout + completed.stderr
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    finished = {event["step_id"]: event for event in events if event["state"] in ("completed", "failed")}
    assert finished["triage"]["state"] == "completed"  # the demo's first step costs about $0.08
    stopped = [event for event in finished.values() if event["state"] == "failed"]
    assert len(stopped) == 1 and "the run would go over its cost budget of $0.3000" in stopped[0]["message"]
    ended = events[-1]
    assert ended["state"] == "run_failed" and ended["message"].startswith(f"step {stopped[0]['step_id']} failed: ")
    assert 0.1 < ended["cost_usd"] <= 0.30
    last = completed.stderr.rstrip().splitlines()[-2:]  # a failed run ends with the resume command, after the cost
    assert last[0].startswith(f"cost: ${ended['cost_usd']:.4f} (") and last[1].startswith("Resume with: ")
    assert_run_left_nothing(docker, ended["run_id"])


def test_budgets_from_the_users_config_and_environment_bind_the_run(demo_run, docker, tmp_path):
    """No flag: the user's config sets the cost limit, WAVE_SANDBOX_STEP_TOKENS a step's token budget."""
    repo, base = demo_run["repo"], demo_run["base"]
    (tmp_path / "wave-sandbox").mkdir()
    (tmp_path / "wave-sandbox" / "config.yaml").write_text("max_cost: 0.05\n")
    completed = run_cli("run", "incident-response", "500 errors", "--repo", str(repo), "--model",
                        f"scripted:{DEMO_SCRIPT}", "--output", str(base / "config-capped"), "--json", cwd=base,
                        timeout=600, env={"XDG_CONFIG_HOME": str(tmp_path)})  # fmt: skip
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    assert completed.returncode == 1 and "its cost budget of $0.0500" in events[-1]["message"], completed.stdout
    tokens = run_cli("run", "incident-response", "500 errors", "--repo", str(repo), "--model",
                     f"scripted:{DEMO_SCRIPT}", "--output", str(base / "token-capped"), "--json", cwd=base,
                     timeout=600, env={"XDG_CONFIG_HOME": str(tmp_path / "none"),
                                       "WAVE_SANDBOX_STEP_TOKENS": "5000"})  # fmt: skip
    ended = json.loads(tokens.stdout.splitlines()[-1])
    assert tokens.returncode == 1 and "over its budget of 5000 tokens" in ended["message"], tokens.stdout
    assert_run_left_nothing(docker, ended["run_id"])
