"""A repository in the shape of a Wave project, built for the tests: wave.yaml, .agents/personas,
.agents/pipelines, .agents/contracts, a skill, and a remote whose URL carries a credential."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.conftest import git

REMOTE_SECRET = "ghp_RemoteUrlSecret0123456789abcdefXYZ"

WAVE_YAML = """\
apiVersion: v1
kind: WaveManifest
metadata:
  name: shop
  forge: github
project:
  test_command: "make test"
adapters:
  claude:
    binary: claude
    mode: headless
    tier_models:
      strongest: claude-opus-4-1
personas:
  github-analyst:
    adapter: claude
    description: Looks at issues
    system_prompt_file: .agents/personas/github-analyst.md
    model: cheapest
    temperature: 0.1
    token_scopes: [issues:read]
    permissions:
      allowed_tools: [Read, Write, "Bash(git log*)"]
      deny: []
  navigator:
    adapter: claude
    description: Wave's navigator
    system_prompt_file: .agents/personas/navigator.md
    permissions:
      allowed_tools: ["*"]
      deny: [Edit]
  summarizer:
    adapter: claude
    system_prompt_file: .agents/personas/summarizer.md
    sandbox:
      allowed_domains: [api.github.com]
    permissions:
      allowed_tools: ["*"]
runtime:
  routing:
    complexity_map:
      cheapest: claude-haiku-4-5
  sandbox:
    env_passthrough: [GH_TOKEN]
"""

PIPELINE = """\
kind: WavePipeline
metadata:
  name: wave-review
  description: Review a change the Wave way
input:
  source: cli
  type: string
pipeline_outputs:
  review: {step: review, artifact: review}
chat_context:
  focus_areas: [findings]
skills:
  - "{{ project.skill }}"
steps:
  - id: scan
    persona: "{{ forge.type }}-analyst"
    thread: review
    skills: [house-style]
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readonly
    exec:
      type: prompt
      source: "Scan {{ input }} of {{ forge.owner }}/{{ forge.repo }} with {{ forge.cli_tool }}; tests: {{ project.test_command }}; keep {{ not.a.wave.variable }}"
    output_artifacts:
      - name: finding
        path: .agents/output/finding.json
        type: json
    outcomes:
      - type: url
        extract_from: .agents/output/finding.json
        json_path: .url
    handover:
      contract:
        type: json_schema
        source: .agents/output/finding.json
        schema_path: .agents/contracts/finding.schema.json
      compaction:
        trigger: never
  - id: review
    persona: navigator
    model: strongest
    dependencies: [scan]
    thread: review
    max_concurrent_agents: 3
    memory:
      inject_artifacts:
        - step: scan
          artifact: finding
          as: finding
          schema_path: .agents/contracts/finding.schema.json
    exec:
      source: "Review {{ artifacts.finding }}"
    output_artifacts:
      - name: review
        path: .agents/output/review.md
        type: markdown
  - id: wrap-up
    persona: summarizer
    dependencies: [review]
    thread: review
    fidelity: compact
    exec:
      source: "Wrap up"
    output_artifacts:
      - name: summary
        path: .agents/output/summary.md
"""

SCHEMA = {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}
SKILL = "---\nname: house-style\ndescription: How this shop writes code\n---\n\nUse tabs.\n"


def wave_project_repository(folder: Path) -> Path:
    """A git repository shaped like a Wave project, with an origin remote whose URL holds a token."""
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    files = {
        "wave.yaml": WAVE_YAML,
        ".agents/personas/base-protocol.md": "# Wave Agent Protocol\n\nBASE-PROTOCOL-MARKER\n",
        ".agents/personas/github-analyst.md": "# GitHub Analyst\n\nANALYST-PROMPT-MARKER\n",
        ".agents/personas/navigator.md": "# Navigator\n\nWAVE-NAVIGATOR-MARKER\n",
        ".agents/personas/summarizer.md": "# Summarizer\n\nWAVE-SUMMARIZER-MARKER\n",
        ".wave/personas/summarizer.md": "OUR-SUMMARIZER-LIMITS-MARKER: summarise in three lines.\n",
        ".agents/pipelines/wave-review.yaml": PIPELINE,
        ".agents/contracts/finding.schema.json": json.dumps(SCHEMA),
        "skills/house-style/SKILL.md": SKILL,
        "app.py": "print('shop')\n",
    }
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (folder / ".gitignore").write_text(".wave/runs/\n")
    git(folder, "remote", "add", "origin", f"https://x-access-token:{REMOTE_SECRET}@github.com/acme/shop.git")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "A Wave project")
    return folder
