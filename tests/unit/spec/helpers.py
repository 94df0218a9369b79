"""Small pipelines to vary, and shortcuts to load them and read their problems."""

from __future__ import annotations

from pathlib import Path

from wave_sandbox.errors import SpecError
from wave_sandbox.settings import combine_policies
from wave_sandbox.spec.loader import load_pipeline

CEILINGS = combine_policies([])  # the built-in ceilings, as with no policy file

BASE = """\
kind: WavePipeline
metadata:
  name: sample
  description: A small pipeline to vary in tests
steps:
  - id: triage
    persona: navigator
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readonly
    exec:
      type: prompt
      source: "Triage {{ input }}"
    output_artifacts:
      - name: triage
        path: output/triage.json
        type: json
  - id: investigate
    persona: auditor
    dependencies: [triage]
    memory:
      strategy: fresh
      inject_artifacts:
        - step: triage
          artifact: triage
          as: triage
    exec:
      source: "Investigate"
    output_artifacts:
      - name: investigation
        path: output/investigation.md
        type: markdown
"""


def variant(old: str, new: str, text: str = BASE) -> str:
    """`text` with its only occurrence of `old` replaced by `new`."""
    assert text.count(old) == 1, f"{old!r} should occur once"
    return text.replace(old, new)


def line_of(text: str, marker: str, occurrence: int = 1) -> int:
    """The 1-based line of the `occurrence`-th line containing `marker`."""
    found = [number for number, line in enumerate(text.splitlines(), start=1) if marker in line]
    assert len(found) >= occurrence, f"{marker!r} not found {occurrence} times"
    return found[occurrence - 1]


def write_pipeline(repo: Path, text: str, name: str = "p.yaml") -> Path:
    path = repo / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_in(repo: Path, text: str) -> list[str]:
    """Every problem `load_pipeline` reports for `text`, or [] when it loads."""
    try:
        load_pipeline(write_pipeline(repo, text), repo, CEILINGS)
    except SpecError as error:
        return error.problems
    return []
