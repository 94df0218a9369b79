"""`wave-evidence` (python3 -m wave_sandbox.evidence): the evidence pass on its own, standard library only.

    wave-evidence --repo DIR --logs PATH... [--symptom TEXT] [--window-hours N] [--json]

Exit status 0 with the report (whatever it concludes), 2 for a usage error or a folder that is not
a git repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from wave_sandbox.evidence.collect import DEFAULT_WINDOW_HOURS, EvidenceRequest, collect_evidence
from wave_sandbox.evidence.errors import EvidenceError
from wave_sandbox.evidence.report import evidence_to_json, render_console

__all__ = ["main", "run_evidence"]

USAGE_ERROR_EXIT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wave-evidence",
        description="Deterministic incident evidence: onset from the logs, error signatures, and the "
        "commits before the onset ranked with reasons. No model, no network.",
    )
    parser.add_argument("--repo", default=".", help="the service's git checkout (default: the current folder)")
    parser.add_argument("--logs", nargs="+", action="extend", default=[], metavar="PATH",
                        help="log files or folders (plain, JSON lines, .gz, platform exports: kubectl, CloudWatch, "
                        "Cloud Logging, Datadog, Loki, journald, Docker); repeatable")
    parser.add_argument("--symptom", default=None, help='the incident in words, e.g. "500s on /api/orders since 14:30 UTC"')
    parser.add_argument("--window-hours", type=float, default=DEFAULT_WINDOW_HOURS,
                        help="hours of commits before the onset (default 72; widened below 3 commits)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    return parser


def run_evidence(repo: str, logs: list[str], symptom: str | None, window_hours: float, as_json: bool) -> str:
    """The report as text (JSON or the console summary). Raises EvidenceError."""
    if window_hours <= 0:
        raise EvidenceError("--window-hours must be a positive number of hours")
    evidence = collect_evidence(EvidenceRequest(Path(repo), list(logs), symptom, window_hours))
    if as_json:
        return json.dumps(evidence_to_json(evidence), indent=2) + "\n"
    return render_console(evidence)


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        output = run_evidence(arguments.repo, arguments.logs, arguments.symptom, arguments.window_hours, arguments.json)
    except EvidenceError as error:
        print(f"wave-evidence: {error}", file=sys.stderr)
        return USAGE_ERROR_EXIT
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    sys.stdout.write(output)
    return 0
