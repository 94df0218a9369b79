"""The phase table of `profile_run.py`: medians over runs of each probe's total time, plus the agent's share.

Spans of one label are summed per run (a label hit twice, like two iptables calls, shows its total
and its count); the table keeps the order and nesting in which the labels first appeared. Derived
rows split each agent exec into the agent's start-up (exec start to its first model request at the
gateway), the model exchanges, and its end (last response to the end of the exec).
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from pathlib import Path

AGENT_EXEC = "exec python3 (the agent)"
GATEWAY_REQUEST = "gateway request (model exchange)"
AGENT_LOG_OFFSET = re.compile(r"^\[\s*([0-9.]+)s\]")


def totals_of(run: dict) -> tuple[dict[str, float], dict[str, int], dict[str, tuple[float, int]]]:
    """Per probe path (a label within its enclosing probes): summed ms, count, (first start, depth)."""
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    first: dict[str, tuple[float, int]] = {}
    for span in run["spans"]:
        path = span["path"]
        totals[path] += span["duration_ms"]
        counts[path] += 1
        if path not in first or span["start_ms"] < first[path][0]:
            first[path] = (span["start_ms"], span["depth"])
    for label, value in derived_rows(run).items():
        totals[label], counts[label] = value, 1
    return totals, counts, first


def derived_rows(run: dict) -> dict[str, float]:
    """The agent's start-up and end inside each exec, and what follows the CLI's main()."""
    execs = [s for s in run["spans"] if s["label"] == AGENT_EXEC]
    requests = [s for s in run["spans"] if s["label"] == GATEWAY_REQUEST]
    rows: dict[str, float] = defaultdict(float)
    for agent_exec in execs:
        exec_end = agent_exec["start_ms"] + agent_exec["duration_ms"]
        inside = [r for r in requests if agent_exec["start_ms"] <= r["start_ms"] <= exec_end]
        if not inside:
            continue
        first_request = min(r["start_ms"] for r in inside)
        last_response = max(r["start_ms"] + r["duration_ms"] for r in inside)
        rows["  agent start-up: exec start -> first model request"] += first_request - agent_exec["start_ms"]
        rows["  agent end: last model response -> exec returns"] += exec_end - last_response
    rows["interpreter exit + child teardown (after main returns)"] = run["wall_ms"] - run["ended_ms"]
    rows["WHOLE PROCESS (spawn to exit)"] = run["wall_ms"]
    return rows


def agent_log_offsets(run_folder: Path) -> list[tuple[str, float, float]]:
    """(step, first line's offset, last line's offset) from each agent.log, in seconds."""
    offsets = []
    for log in sorted(run_folder.glob("steps/*/agent.log")):
        stamps = [float(m.group(1)) for line in log.read_text().splitlines() if (m := AGENT_LOG_OFFSET.match(line))]
        if stamps:
            offsets.append((log.parent.name, stamps[0], stamps[-1]))
    return offsets


def print_report(runs: list[dict], scenario: str, timeline: bool) -> None:
    per_run = [totals_of(run) for run in runs]
    order = ordered_labels(per_run[0][2], per_run[0][0])
    print(f"profile of `wave-sandbox run` ({scenario}), {len(runs)} run(s); ms, median over runs\n")
    print(f"{'phase':<62} {'median':>9} {'count':>5}   per run")
    for path, depth in order:
        values = [totals.get(path, 0.0) for totals, _, _ in per_run]
        count = per_run[0][1].get(path, 0)
        shown = "  " * depth + path.rsplit(" > ", 1)[-1]
        print(f"{shown[:62]:<62} {statistics.median(values):>9.1f} {count:>5}   "
              + " ".join(f"{value:.0f}" for value in values))  # fmt: skip
    print_missing(runs[0])
    print_agent_logs(runs)
    if timeline:
        print_timeline(runs[-1])


def ordered_labels(first: dict[str, tuple[float, int]], totals: dict[str, float]) -> list[tuple[str, int]]:
    spans = sorted(first.items(), key=lambda item: item[1][0])
    order = [(label, depth) for label, (_, depth) in spans]
    derived = [label for label in totals if label not in first]
    return order + [(label, 0) for label in derived]


def print_missing(run: dict) -> None:
    if run["missing_probes"]:
        print(f"\nprobes whose targets no longer exist (skipped): {', '.join(run['missing_probes'])}")


def print_agent_logs(runs: list[dict]) -> None:
    print("\nagent.log offsets (agent's own clock, from its main(); 0.1 s resolution): first line, last line")
    for run in runs:
        offsets = agent_log_offsets(Path(run["run_folder"]))
        print("  " + "; ".join(f"{step} {first:.1f}s/{last:.1f}s" for step, first, last in offsets))


def print_timeline(run: dict) -> None:
    print("\ntimeline of the last run (start ms since spawn, duration ms, thread)")
    for span in sorted(run["spans"], key=lambda s: s["start_ms"]):
        indent = "  " * span["depth"]
        print(f"{span['start_ms']:>9.1f} {span['duration_ms']:>9.1f}  {span['thread'][:22]:<22} {indent}{span['label']}")
