"""`make bench`: what prompt caching and context management save, in billed dollars (issue 14).

Runs, with real containers and the real agent, the scripted model answering:
    demo      the five-step incident-response demo on the demo repository
    long      a 40-turn synthetic step (39 read_file calls of ~3,000-token files, then an answer),
              with the model's full 200k context window: context management never has to act
    managed   the same step with a persona whose context_window is 60,000: old results get cleared

Then prices every step's transcript, from the exact request bodies it kept, under the provider's
published prices (claude-sonnet-4-5, as the scripted model is priced; gateway/prices.py) and caching
rules (gateway/prompt_cache.py: a request reads the longest prefix, up to one of its breakpoints, that
an earlier request within five minutes wrote at a breakpoint; prefixes under the minimum cacheable
length are not cached), as sent (cache_control breakpoints and all: "with"), and with every
breakpoint taken out ("without": an agent without prompt caching). For the managed step, "without"
is the 200k step's conversation without breakpoints: an agent with neither caching nor context
management (which, on a real 60k model, would fail once past the window); a last row bills the
managed step against its own conversation without breakpoints (caching alone). Prints both costs and the
saving per row, checks that caching (with context management where it acts) is at least 70% cheaper
on the 40-turn step, writes benchmarks/results/cost_replay.json. Exit status 0 when the runs worked
and the target is met, 1 otherwise.

    .venv/bin/python benchmarks/cost_replay.py [--keep-temp]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from wave_sandbox.gateway.prices import PriceTable  # noqa: E402
from wave_sandbox.gateway.prompt_cache import PromptCache  # noqa: E402
from wave_sandbox.gateway.usage import Usage  # noqa: E402

CLI = Path(sys.executable).with_name("wave-sandbox")
RESULTS_FILE = PROJECT_DIR / "benchmarks" / "results" / "cost_replay.json"
DEMO_INPUT = "500 errors spiking on /api/orders endpoint since 14:30 UTC"
LONG_TURNS = 40
FILE_CHARS = 12_000
MANAGED_WINDOW = 60_000
TARGET_SAVING = 0.70

LONG_PIPELINE = """\
kind: WavePipeline
metadata:
  name: long-step
steps:
  - id: long
    persona: longreader
    workspace:
      mount: [{source: ./, target: /src, mode: readonly}]
    exec: {source: "Read every part under /src/parts, one by one, and say what they hold"}
  - id: managed
    persona: managedreader
    workspace:
      mount: [{source: ./, target: /src, mode: readonly}]
    exec: {source: "Read every part under /src/parts, one by one, and say what they hold"}
"""
READER_PROMPT = (
    "You are a careful reader. You read the files you are asked to read, one at a time, with read_file, "
    "and then you say in a few lines what they hold. You never guess at a file you have not read.\n"
) * 12


@dataclass
class Bill:
    requests: int = 0
    input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Billed cost with and without prompt caching (issue 14).")
    parser.add_argument("--keep-temp", action="store_true", help="keep the scratch folder (run records)")
    return parser.parse_args(argv)


def run_cli(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    completed = subprocess.run([str(CLI), *arguments], cwd=cwd, capture_output=True, text=True, timeout=1800)
    if completed.returncode != 0:
        raise SystemExit(f"cost_replay: wave-sandbox {arguments[0]} failed:\n{completed.stdout}{completed.stderr}")
    return completed


def latest_record(repo: Path) -> Path:
    return max((repo / ".wave" / "runs").iterdir(), key=lambda path: path.name)


def run_demo(scratch: Path) -> Path:
    repo = scratch / "orders-service"
    subprocess.run([str(PROJECT_DIR / "examples" / "make_demo_repo.sh"), str(repo)], check=True, capture_output=True)
    script = PROJECT_DIR / "examples" / "incident-response.script.yaml"
    run_cli("run", "incident-response", DEMO_INPUT, "--repo", str(repo), "--model", f"scripted:{script}",
            "--output", str(scratch / "demo-out"), cwd=scratch)  # fmt: skip
    return latest_record(repo)


def long_step_repository(folder: Path) -> Path:
    folder.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True)
    (folder / "parts").mkdir()
    for index in range(LONG_TURNS - 1):
        line = f"part {index:02d}: the orders service keeps its connection pool in db.py; " * 2 + "\n"
        (folder / "parts" / f"part{index:02d}.txt").write_text((line * (FILE_CHARS // len(line) + 1))[:FILE_CHARS])
    personas = folder / ".wave" / "personas"
    personas.mkdir(parents=True)
    for name, extra in (("longreader", ""), ("managedreader", f"context_window: {MANAGED_WINDOW}\n")):
        (personas / f"{name}.md").write_text(READER_PROMPT)
        (personas / f"{name}.yaml").write_text(f"tools: [read_file, list_files]\nmax_turns: 45\n{extra}")
    git = ["git", "-C", str(folder), "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "parts"], check=True)
    return folder


def run_long_step(scratch: Path) -> Path:
    repo = long_step_repository(scratch / "parts-repo")
    reads = [[{"type": "tool_use", "name": "read_file", "input": {"path": f"/src/parts/part{index:02d}.txt"}}]
             for index in range(LONG_TURNS - 1)]  # fmt: skip
    turns = reads + [[{"type": "text", "text": "All 39 parts describe the orders service's connection pool."}]]
    (scratch / "long.script.json").write_text(json.dumps({"steps": {"long": turns, "managed": turns}}))
    (scratch / "long.yaml").write_text(LONG_PIPELINE)
    script = scratch / "long.script.json"
    run_cli("run", str(scratch / "long.yaml"), "--repo", str(repo), "--model", f"scripted:{script}",
            "--output", str(scratch / "long-out"), cwd=scratch)  # fmt: skip
    return latest_record(repo)


def without_breakpoints(value: Any) -> Any:
    """The request as an agent without prompt caching would have sent it."""
    if isinstance(value, dict):
        return {key: without_breakpoints(item) for key, item in value.items() if key != "cache_control"}
    if isinstance(value, list):
        return [without_breakpoints(item) for item in value]
    return value


def exchanges_of(record: Path, steps: list[str]) -> list[dict[str, Any]]:
    """The billed exchanges (answered 200) of ``steps``, in the order they were made."""
    exchanges = []
    for order, step in enumerate(steps):
        lines = (record / "steps" / step / "transcript.jsonl").read_text().splitlines()
        exchanges += [(json.loads(line)["time"], order, index, json.loads(line)) for index, line in enumerate(lines)]
    return [exchange for *_, exchange in sorted(exchanges, key=lambda item: item[:3]) if exchange["status"] == 200]


def bill(exchanges: list[dict[str, Any]], caching: bool, prices: PriceTable) -> Bill:
    """Price every request from its body under the caching rules; without caching, breakpoints removed."""
    cache, total = PromptCache(), Bill()
    for exchange in exchanges:
        body = exchange["request"] if caching else without_breakpoints(exchange["request"])
        moment = datetime.strptime(exchange["time"], "%Y-%m-%dT%H:%M:%SZ").timestamp()
        counts = cache.account(body, now=moment)
        usage = Usage(1, counts.total, exchange["usage"]["output_tokens"], counts.cache_creation_input_tokens,
                      counts.cache_read_input_tokens)  # fmt: skip
        total.requests += 1
        total.input_tokens += usage.input_tokens
        total.cache_write_tokens += usage.cache_creation_input_tokens
        total.cache_read_tokens += usage.cache_read_input_tokens
        total.output_tokens += usage.output_tokens
        total.cost_usd += prices.cost(body.get("model"), usage)
    return total


def compare(name: str, exchanges: list[dict[str, Any]], prices: PriceTable, baseline=None) -> dict[str, Any]:
    """``exchanges`` billed as sent against ``baseline`` (default: the same exchanges) without breakpoints."""
    cached, plain = bill(exchanges, True, prices), bill(exchanges if baseline is None else baseline, False, prices)
    saving = 1 - cached.cost_usd / plain.cost_usd if plain.cost_usd else 0.0
    return {"name": name, "with_caching": asdict(cached), "without_caching": asdict(plain), "saving": saving}


def render(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'replay':<34} {'requests':>8} {'input tok':>10} {'cache rd':>10} {'cache wr':>9} "
             f"{'no caching':>11} {'caching':>9} {'saving':>7}"]  # fmt: skip
    for row in rows:
        cached, plain = row["with_caching"], row["without_caching"]
        lines.append(
            f"{row['name']:<34} {cached['requests']:>8} {cached['input_tokens']:>10,} "
            f"{cached['cache_read_tokens']:>10,} {cached['cache_write_tokens']:>9,} "
            f"${plain['cost_usd']:>10.4f} ${cached['cost_usd']:>8.4f} "
            f"{row['saving']:>6.1%}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    scratch = Path(tempfile.mkdtemp(prefix="wave-cost-replay-"))
    prices = PriceTable()
    try:
        demo = run_demo(scratch)
        long = run_long_step(scratch)
        demo_steps = list(json.loads((demo / "run.json").read_text())["steps"])
        rows = [
            compare("demo run (5 steps)", exchanges_of(demo, demo_steps), prices),
            compare("40-turn step, 200k window", exchanges_of(long, ["long"]), prices),
            compare(f"40-turn step, {MANAGED_WINDOW // 1000}k window, cleared", exchanges_of(long, ["managed"]), prices,
                    baseline=exchanges_of(long, ["long"])),
            compare("  the same, caching only", exchanges_of(long, ["managed"]), prices),
        ]
    finally:
        if arguments.keep_temp:
            print(f"run records kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print("Billed cost at claude-sonnet-4-5 prices, recomputed from the transcripts' request bodies")
    print(render(rows))
    met = all(row["saving"] >= TARGET_SAVING for row in rows[1:3])
    print(f"caching at least {TARGET_SAVING:.0%} cheaper on the 40-turn step: {'PASS' if met else 'MISS'}")
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps({"rows": rows, "target_saving": TARGET_SAVING, "met": met}, indent=2) + "\n")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
